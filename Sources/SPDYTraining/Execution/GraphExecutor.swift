import SPDYGraph
import SPDYKernels
import SPDYTensor

/// The training executor in precision `S`: parameters, compiled programs (one per input shapes,
/// retained values and pass kind), forward and backward passes. `TrainingExecutor` is its float32
/// face; gradient checks use it in float64.
///
/// Not reentrant: one pass runs at a time (a pass's kernels use all of `pool`'s threads).
final class GraphExecutor<S: TrainingScalar> {
    let graph: Graph
    let store: ParameterStore<S>
    let batchNorm: BatchNormMode
    let pool: ThreadPool
    let counter = ActivationCounter()
    /// Scratch limit (elements) for kernels that unfold patches.
    let workspaceElements: Int
    private var programs: [ProgramKey: GraphProgram<S>] = [:]

    init(graph: Graph, selection: ParameterSelection, batchNorm: BatchNormMode, threads: Int,
         workspaceElements: Int = 1 << 22) throws {
        try graph.validate()
        self.workspaceElements = workspaceElements
        self.graph = graph
        self.store = ParameterStore(graph: graph, selection: selection)
        self.batchNorm = batchNorm
        self.pool = ThreadPool(threads: threads)
    }

    /// The program for `key`, compiled on first use.
    func program(_ key: ProgramKey) throws -> GraphProgram<S> {
        if let p = programs[key] { return p }
        let p = try GraphProgram(graph: graph, store: store, key: key, batchNorm: batchNorm, workspaceElements: workspaceElements)
        programs[key] = p
        return p
    }

    /// Runs the graph forward on `feeds`.
    ///
    /// - `retaining`: values kept until the pass ends (readable, and seedable in backward), in
    ///   addition to the graph outputs.
    /// - `differentiable`: keep what backward reads (a training pass); false for evaluation.
    /// - `training`: BatchNorm in batch-statistics mode normalises with the batch (and updates its
    ///   running statistics); ignored otherwise.
    /// - `inputGradients`: float graph inputs whose gradients backward returns.
    func forward(_ feeds: [String: Value<S>], retaining: Set<String> = [], differentiable: Bool, training: Bool,
                 inputGradients: Set<String> = []) throws -> PassState<S> {
        for (name, value) in feeds {
            guard let input = graph.inputs.first(where: { $0.name == name }) else {
                throw TrainingError.badFeed(name: name, reason: "the model has no such input (inputs: \(graph.inputs.map(\.name).joined(separator: ", ")))")
            }
            switch value {
            case .dense where input.dataType != .float32, .host where input.dataType == .float32:
                throw TrainingError.badFeed(name: name, reason: "expected \(input.dataType)")
            default: break
            }
        }
        let key = ProgramKey(inputShapes: feeds.mapValues(\.shape), retained: retaining, differentiable: differentiable,
                             inputGradients: differentiable ? inputGradients : [])
        let program = try program(key)
        let pass = PassState(program: program, training: training && differentiable, counter: counter)
        for (name, slot) in program.inputSlots { pass.store(feeds[name]!, in: slot) }
        for (i, step) in program.steps.enumerated() {
            let inputs = step.inputs.map { source -> Value<S>? in
                switch source {
                case .absent: return nil
                case .slot(let s): return pass.slots[s]
                case .constant(let c): return program.constants[c]
                case .parameter(let p): return .dense(store[p].value)
                }
            }
            let result = try step.kernel.forward(ForwardArguments(inputs: inputs, training: pass.training, pool: pool))
            for (k, slot) in step.outputs.enumerated() {
                guard let slot else { continue }
                let value = result.outputs[k]
                precondition(value.shape == program.slotTypes[slot].shape,
                             "node \(step.node.name) (\(step.node.opType)) output \(k): \(value.shape), expected \(program.slotTypes[slot].shape)")
                pass.store(value, in: slot)
            }
            if step.runsBackward, let aux = result.auxiliary { pass.storeAuxiliary(aux, step: i) }
            if pass.training {
                for update in result.stateUpdates {
                    if case .parameter(let p) = step.inputs[update.input] { store[p].value = update.value }
                }
            }
            for slot in step.releasedAfterForward { pass.release(slot) }
        }
        return pass
    }

    /// Propagates `seeds` (gradients of the loss w.r.t. graph outputs or retained values) back
    /// through `pass`, adding parameter gradients into the store. Returns the gradients of the
    /// requested inputs. A pass runs backward once; values it keeps stay readable.
    func backward(_ pass: PassState<S>, seeds: [String: Dense<S>]) throws -> [String: Dense<S>] {
        let program = pass.program
        guard program.key.differentiable else { throw TrainingError.passNotDifferentiable(reason: "the forward pass was an evaluation pass") }
        guard !pass.backwardDone else { throw TrainingError.passNotDifferentiable(reason: "backward already ran on this pass") }
        for name in seeds.keys where program.kept[name] == nil {
            throw TrainingError.unknownValue(name: name, reason: "gradient seeds go to graph outputs or values the forward pass retained")
        }
        pass.backwardDone = true
        var gradients = [Dense<S>?](repeating: nil, count: program.slotTypes.count)
        func accumulate(_ slot: Int, _ g: Dense<S>) {
            precondition(g.count == program.slotTypes[slot].count, "gradient of \(g.count) elements for slot \(slot)")
            if gradients[slot] == nil {
                gradients[slot] = g.reshaped(program.slotTypes[slot].shape)
                counter.holdGradient(g.count)
            } else {
                gradients[slot]!.add(g)
            }
        }
        func drop(_ slot: Int) {
            if let g = gradients[slot] { counter.releaseGradient(g.count); gradients[slot] = nil }
        }
        for (name, seed) in seeds {
            // Values that depend on no trainable parameter take no gradient: their seeds do nothing.
            guard let slot = program.seedSlot(name) else { continue }
            let expected = program.slotTypes[slot].shape
            guard seed.shape == expected || (seed.count == Tensor.elementCount(expected) && seed.shape.isEmpty == expected.isEmpty) else {
                throw TrainingError.seedShape(name: name, expected: expected, got: seed.shape)
            }
            accumulate(slot, seed)
        }
        for i in stride(from: program.steps.count - 1, through: 0, by: -1) {
            let step = program.steps[i]
            guard step.runsBackward else { continue }
            let outputGradients = step.outputs.map { $0.flatMap { gradients[$0] } }
            for slot in step.outputs.compactMap({ $0 }) { drop(slot) }
            if outputGradients.contains(where: { $0 != nil }) {
                let inputs = step.inputs.enumerated().map { k, source -> Value<S>? in
                    switch source {
                    case .absent: return nil
                    case .slot(let s): return step.saved.inputs.contains(k) ? pass.slots[s] : nil
                    case .constant(let c): return program.constants[c]
                    case .parameter(let p): return .dense(store[p].value)
                    }
                }
                let outputs = step.outputs.enumerated().map { k, slot -> Value<S>? in
                    guard let slot, step.saved.outputs.contains(k) else { return nil }
                    return pass.slots[slot]
                }
                let inputGradients = try step.kernel.backward(BackwardArguments(
                    outputGradients: outputGradients, inputs: inputs, outputs: outputs, auxiliary: pass.auxiliary[i],
                    needsGradient: step.needsGradient, training: pass.training, pool: pool))
                for (k, g) in inputGradients.enumerated() where k < step.needsGradient.count && step.needsGradient[k] {
                    guard let g else { continue }
                    switch step.inputs[k] {
                    case .slot(let slot): accumulate(slot, g)
                    case .parameter(let p): store.accumulateGradient(p, g)
                    default: break
                    }
                }
            }
            pass.releaseAuxiliary(i)
            for slot in step.releasedAfterBackward { pass.release(slot) }
        }
        var result: [String: Dense<S>] = [:]
        for (name, slot) in program.inputGradientSlots {
            result[name] = gradients[slot] ?? Dense(zeros: program.slotTypes[slot].shape)
            drop(slot)
        }
        for slot in gradients.indices { drop(slot) }
        // Everything but the kept values is no longer needed.
        var keptSlots = Set<Int>()
        for s in program.kept.values { if case .slot(let slot) = s { keptSlots.insert(slot) } }
        for slot in 0..<program.slotTypes.count where !keptSlots.contains(slot) { pass.release(slot) }
        return result
    }

    /// A kept value of `pass` by name (graph output or retained value).
    func value(_ name: String, in pass: PassState<S>) -> Value<S>? {
        guard let source = pass.program.kept[name] else { return nil }
        switch source {
        case .absent: return nil
        case .slot(let s): return pass.slots[s]
        case .constant(let c): return pass.program.constants[c]
        case .parameter(let p): return .dense(store[p].value)
        }
    }
}
