import SPDYGraph
import SPDYTensor

/// Where a node input comes from.
enum ValueSource: Equatable {
    /// An omitted optional input.
    case absent
    /// A run-time value, by slot.
    case slot(Int)
    /// A value known at compile time, by index into the program's constants.
    case constant(Int)
    /// A parameter-store entry (trainable or not), by index.
    case parameter(Int)
}

/// What a program is compiled for.
struct ProgramKey: Hashable {
    /// Concrete shapes of every graph input.
    var inputShapes: [String: [Int]]
    /// Values the pass keeps until it ends (hooks, per-layer losses); graph outputs always are.
    var retained: Set<String>
    /// Whether the pass can run backward (saves what the backward rules read).
    var differentiable: Bool
    /// Graph inputs that receive gradients too.
    var inputGradients: Set<String>
}

/// One node as the executor runs it.
struct ProgramStep<S: TrainingScalar> {
    let node: Node
    let kernel: AnyKernel<S>
    let inputs: [ValueSource]
    /// Slot of each output (nil for unnamed outputs).
    let outputs: [Int?]
    /// Per input: whether its gradient is wanted in the backward pass.
    let needsGradient: [Bool]
    /// Whether the backward pass runs this step.
    let runsBackward: Bool
    /// What the backward reads.
    let saved: SavedValues
    /// Slots released after this step's forward (last forward reader, not needed later).
    var releasedAfterForward: [Int] = []
    /// Slots released after this step's backward (their earliest backward reader).
    var releasedAfterBackward: [Int] = []
}

/// A graph compiled for one `ProgramKey`: the run-time nodes in execution order with their
/// kernels, where each input comes from, and when each activation can be released.
///
/// Compilation: static analysis gives every value's type and folds what does not depend on the
/// inputs; nodes reading parameters always run (parameters change between steps). A value
/// carries a gradient when it depends on a trainable parameter (or a requested input) through
/// differentiable inputs; a step runs backward when one of its outputs carries a gradient and
/// reaches a graph output or retained value. An activation is kept after its last forward reader
/// only if an active backward step reads it, and released after the earliest such step.
final class GraphProgram<S: TrainingScalar> {
    let key: ProgramKey
    private(set) var steps: [ProgramStep<S>] = []
    private(set) var constants: [Value<S>] = []
    /// Slot of every run-time value by name.
    private(set) var slots: [String: Int] = [:]
    /// Type of every slot.
    private(set) var slotTypes: [ValueType] = []
    /// Slots of the graph inputs, in graph order.
    private(set) var inputSlots: [(name: String, slot: Int)] = []
    /// Values the pass keeps: graph outputs and retained values, by name.
    private(set) var kept: [String: ValueSource] = [:]
    /// Slots whose values may receive gradient seeds.
    private(set) var seedable: Set<Int> = []
    /// Slots of inputs whose gradients are returned.
    private(set) var inputGradientSlots: [String: Int] = [:]

    init(graph: Graph, store: ParameterStore<S>, key: ProgramKey, batchNorm: BatchNormMode, workspaceElements: Int) throws {
        self.key = key
        for name in key.inputShapes.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw TrainingError.badFeed(name: name, reason: "the model has no such input (inputs: \(graph.inputs.map(\.name).joined(separator: ", ")))")
        }
        for input in graph.inputs where key.inputShapes[input.name] == nil {
            throw TrainingError.badFeed(name: input.name, reason: "no value given")
        }
        let analysis = try StaticAnalysis(graph, inputShapes: key.inputShapes)
        var sources: [String: ValueSource] = [:]
        var requiresGradient = Set<String>()
        var parameterDependent = Set<String>()
        func newSlot(_ name: String, _ type: ValueType) -> Int {
            slotTypes.append(type)
            slots[name] = slotTypes.count - 1
            return slotTypes.count - 1
        }
        func constant(_ tensor: Tensor) -> ValueSource {
            constants.append(Value(tensor))
            return .constant(constants.count - 1)
        }
        for input in graph.inputs {
            let slot = newSlot(input.name, analysis.type(of: input.name))
            sources[input.name] = .slot(slot)
            inputSlots.append((input.name, slot))
            if key.differentiable && key.inputGradients.contains(input.name) {
                guard input.dataType == .float32 else {
                    throw TrainingError.unknownValue(name: input.name, reason: "only float inputs can receive gradients")
                }
                requiresGradient.insert(input.name)
                inputGradientSlots[input.name] = slot
            }
        }
        for i in 0..<store.count {
            sources[store[i].name] = .parameter(i)
            if key.differentiable && store[i].trainable { requiresGradient.insert(store[i].name) }
        }
        let valueIndependent: Set<String> = ["Shape", "Size"]
        var builtSteps: [ProgramStep<S>] = []
        for nodeIndex in analysis.order {
            let node = graph.nodes[nodeIndex]
            let named = node.inputs.map { $0.isEmpty ? nil : $0 }
            func source(_ name: String) -> ValueSource {
                if let s = sources[name] { return s }
                let s = constant(analysis.values[name]!.constant!)  // an initializer that is not a parameter
                sources[name] = s
                return s
            }
            let inputSources = named.map { $0.map(source) ?? .absent }
            // Values that change between steps: parameters and everything computed from them
            // (static analysis folded those from the initial initializers).
            let dependsOnParameters = !valueIndependent.contains(node.opType) && zip(named, inputSources).contains { name, s in
                if case .parameter = s { return true }
                return name.map { parameterDependent.contains($0) } ?? false
            }
            if !dependsOnParameters {
                if node.outputs.allSatisfy({ $0.isEmpty || analysis.values[$0]?.constant != nil }) {
                    for out in node.outputs where !out.isEmpty { sources[out] = constant(analysis.values[out]!.constant!) }
                    continue
                }
                if !inputSources.contains(where: { if case .slot = $0 { return true }; return false }) {
                    // All inputs constant but left unfolded (large): fold now.
                    let semantics = try OperatorRegistry.semantics(for: node, opset: graph.opsetVersion)
                    let inputs = inputSources.map { s -> Tensor? in
                        if case .constant(let c) = s { return constants[c].tensor }
                        return nil
                    }
                    let results = try semantics.evaluate(node, inputs: inputs, opset: graph.opsetVersion)
                    for (out, r) in zip(node.outputs, results) where !out.isEmpty { sources[out] = constant(r) }
                    continue
                }
            } else {
                for out in node.outputs where !out.isEmpty { parameterDependent.insert(out) }
            }
            let spec = KernelSpec(node: node, opset: graph.opsetVersion,
                                  inputTypes: named.map { $0.map { analysis.type(of: $0) } },
                                  outputTypes: node.outputs.map { $0.isEmpty ? ValueType(.float32, []) : analysis.type(of: $0) },
                                  constants: inputSources.map { s -> Tensor? in
                                      if case .constant(let c) = s { return constants[c].tensor }
                                      return nil
                                  }, workspaceElements: workspaceElements)
            let kernel = try KernelFactory.make(spec, batchNorm: batchNorm, scalar: S.self)
            var needs = named.map { $0.map { requiresGradient.contains($0) } ?? false }
            if valueIndependent.contains(node.opType) { needs = needs.map { _ in false } }
            for (i, need) in needs.enumerated() where need && !kernel.differentiable(i) {
                let floatOutput = spec.outputTypes.contains { $0.dataType == .float32 }
                guard !floatOutput else {
                    let reason = KernelFactory.differentiableOperators.contains(node.opType)
                        ? "input #\(i) ('\(node.inputs[i])') depends on a trainable parameter but this operator has no gradient for it"
                        : "no backward rule for this operator (it lies on a gradient path)"
                    throw TrainingError.unsupportedOperator(node: node.name, opType: node.opType, opset: graph.opsetVersion, reason: reason)
                }
                needs[i] = false
            }
            let carries = needs.contains(true)
            var outputSlots: [Int?] = []
            for (k, out) in node.outputs.enumerated() {
                guard !out.isEmpty else { outputSlots.append(nil); continue }
                let slot = newSlot(out, spec.outputTypes[k])
                sources[out] = .slot(slot)
                outputSlots.append(slot)
                if carries && spec.outputTypes[k].dataType == .float32 { requiresGradient.insert(out) }
            }
            builtSteps.append(ProgramStep(node: node, kernel: kernel, inputs: inputSources, outputs: outputSlots,
                                          needsGradient: needs, runsBackward: false, saved: SavedValues()))
        }
        // Kept values: graph outputs and retained values.
        for name in Set(graph.outputs.map(\.name)).union(key.retained) {
            guard let s = sources[name] else {
                throw TrainingError.unknownValue(name: name, reason: "not a value of the graph")
            }
            kept[name] = s
        }
        // Which steps run backward: walk back from the gradient sources.
        var live = Set<Int>()
        for (name, s) in kept where requiresGradient.contains(name) {
            if case .slot(let slot) = s { live.insert(slot); seedable.insert(slot) }
        }
        steps = []
        var active = [Bool](repeating: false, count: builtSteps.count)
        if key.differentiable {
            for i in stride(from: builtSteps.count - 1, through: 0, by: -1) {
                let step = builtSteps[i]
                guard step.outputs.contains(where: { $0.map { live.contains($0) } ?? false }), step.needsGradient.contains(true) else { continue }
                active[i] = true
                for (k, s) in step.inputs.enumerated() where step.needsGradient[k] {
                    if case .slot(let slot) = s { live.insert(slot) }
                }
            }
        }
        steps = builtSteps.enumerated().map { i, step in
            let needs = active[i] ? step.needsGradient : step.needsGradient.map { _ in false }
            return ProgramStep(node: step.node, kernel: step.kernel, inputs: step.inputs, outputs: step.outputs,
                               needsGradient: needs, runsBackward: active[i],
                               saved: active[i] ? step.kernel.saved(needs, true) : SavedValues())
        }
        planLifetimes()
    }

    /// Fills each step's release lists.
    private func planLifetimes() {
        let slotCount = slotTypes.count
        var lastForward = [Int](repeating: -1, count: slotCount)
        var firstBackward = [Int](repeating: Int.max, count: slotCount)
        var keptSlots = Set<Int>()
        for s in kept.values { if case .slot(let slot) = s { keptSlots.insert(slot) } }
        for (i, step) in steps.enumerated() {
            for s in step.inputs { if case .slot(let slot) = s { lastForward[slot] = max(lastForward[slot], i) } }
            for slot in step.outputs.compactMap({ $0 }) { lastForward[slot] = max(lastForward[slot], i) }
            guard step.runsBackward else { continue }
            for k in step.saved.inputs where k < step.inputs.count {
                if case .slot(let slot) = step.inputs[k] { firstBackward[slot] = min(firstBackward[slot], i) }
            }
            for k in step.saved.outputs where k < step.outputs.count {
                if let slot = step.outputs[k] { firstBackward[slot] = min(firstBackward[slot], i) }
            }
        }
        for slot in 0..<slotCount where !keptSlots.contains(slot) {
            if firstBackward[slot] != Int.max {
                steps[firstBackward[slot]].releasedAfterBackward.append(slot)
            } else if lastForward[slot] >= 0 {
                steps[lastForward[slot]].releasedAfterForward.append(slot)
            }
        }
    }

    /// Slots of the values the backward pass may be seeded at, by name.
    func seedSlot(_ name: String) -> Int? {
        guard let s = kept[name], case .slot(let slot) = s, seedable.contains(slot) else { return nil }
        return slot
    }
}
