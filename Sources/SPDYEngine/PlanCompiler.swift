import Foundation
import SPDYGraph
import SPDYKernels
import SPDYTensor

extension ExecutionPlan {
    /// Compiles `graph` for the given concrete input shapes (inputs whose declared shape is fully
    /// fixed may be omitted) and options.
    public convenience init(graph: Graph, inputShapes: [String: [Int]] = [:], options: EngineOptions = EngineOptions()) throws {
        var compiler = try PlanCompiler(graph: graph, inputShapes: inputShapes, options: options)
        try compiler.compile()
        let inputTypes = Dictionary(uniqueKeysWithValues: graph.inputs.map { ($0.name, compiler.analysis.type(of: $0.name)) })
        self.init(graph: graph, inputTypes: inputTypes, options: options, memory: compiler.memory,
                  steps: compiler.steps, slots: compiler.slots, pool: ThreadPool(threads: options.threads))
    }
}

/// Turns an analysed graph into plan steps: folds BatchNorm into convolutions, fuses
/// activations and biases, aliases reshapes, and falls back to reference semantics for
/// operators without a dedicated kernel.
struct PlanCompiler {
    let graph: Graph
    let options: EngineOptions
    let analysis: StaticAnalysis
    let memory = PlanMemory()
    var steps: [any PlanStep] = []
    var slots: [String: Slot] = [:]
    /// Node indices already covered by a fused step.
    var fused: Set<Int> = []
    /// Node indices fused before emission starts (Pad into Conv, attention blocks): their
    /// steps may come later than their own place in the order.
    var prefused: Set<Int> = []
    /// Node indices whose turn in the emission order has come (emitted, or skipped as constant).
    var visited: Set<Int> = []
    let consumers: [String: [Int]]
    let graphOutputs: Set<String>
    /// The token block width of every token-blocked value in this plan, read once: tests switch
    /// the process-wide instruction set (on which the default width depends) while other plans
    /// compile, and one plan's blocks must all have the same width.
    let blockWidth = ActivationLayout.blockWidth
    var workspace: UnsafeMutablePointer<Float>? = nil
    var workspaceSize = 0
    private var pendingWorkspace: [(index: Int, size: Int)] = []

    init(graph: Graph, inputShapes: [String: [Int]], options: EngineOptions) throws {
        self.graph = graph
        self.options = options
        self.analysis = try StaticAnalysis(graph, inputShapes: inputShapes)
        self.consumers = graph.consumers
        self.graphOutputs = Set(graph.outputs.map(\.name))
        self.directConvolutions = options.directConvolutions
    }

    /// Zero-padding nodes folded into the convolution that reads them: conv node index →
    /// (the Pad's input, extra [top, left, bottom, right] padding).
    var padFusions: [Int: (pad: Int, input: String, pads: [Int])] = [:]
    /// Attention blocks run as one fused step, keyed by the node where the step goes.
    var attentionFusions: [Int: AttentionFusion] = [:]
    /// LayerNorm inputs that are residual sums computed by the LayerNorm step: input → operands.
    var residualSums: [String: (a: String, b: String)] = [:]
    /// Values stored other than token-major (feature-major or token-blocked) between the steps
    /// that read them so (see `ActivationLayout`, PlanCompiler+Layouts.swift).
    var activationLayouts: [String: ActivationLayout] = [:]
    /// For each value a LayerNorm step normalises, the nodes that LayerNorm covers.
    var layerNormReaders: [String: Set<Int>] = [:]
    /// The residual `Add` nodes folded into LayerNorm steps (`residualSums`).
    var residualAddNodes: Set<Int> = []
    /// Values stored channel-blocked (NCHW16c) between direct convolutions, pools and
    /// elementwise steps (PlanCompiler+ChannelBlocking.swift).
    var channelBlocked: Set<String> = []
    /// Conv nodes that run on the direct kernel when dense, whatever their layouts
    /// (`findChannelBlocking`).
    var directWhenDense: Set<Int> = []
    /// Whether this plan may run convolutions on the direct NCHW16c kernel, read once (AVX-512
    /// kernels active and the option on).
    let directConvolutions: Bool

    mutating func compile() throws {
        for input in graph.inputs {
            if let b = slot(for: input.name).buffer { memory.pin(b) }
        }
        try findPadFusions()
        try findAttentionFusions()
        findResidualLayerNorms()
        (channelBlocked, directWhenDense) = try findChannelBlocking()
        prefused = fused
        for index in analysis.order where !fused.contains(index) {
            visited.insert(index)
            let node = graph.nodes[index]
            if let attention = attentionFusions[index] {
                emitAttention(attention)
                continue
            }
            let outputsConstant = node.outputs.allSatisfy { $0.isEmpty || analysis.values[$0]?.constant != nil }
            if outputsConstant { continue }
            try emit(node, index: index)
        }
        // Graph outputs that are constants still need slots.
        for output in graph.outputs where slots[output.name] == nil { _ = slot(for: output.name) }
        for name in options.observed where slots[name] == nil && analysis.values[name] != nil { _ = slot(for: name) }
        for name in Set(graph.outputs.map(\.name)).union(options.observed) {
            if let b = slots[name]?.buffer { memory.pin(b) }
        }
        placeBuffers()
    }

    /// Gives every activation buffer memory, sharing between buffers not alive at once.
    func placeBuffers() {
        var lifetimes: [Int: ClosedRange<Int>] = [:]
        for (i, step) in steps.enumerated() {
            for b in step.readBuffers + step.writtenBuffers {
                let life = lifetimes[b].map { min($0.lowerBound, i)...max($0.upperBound, i) } ?? i...i
                lifetimes[b] = life
            }
        }
        memory.place(lifetimes: lifetimes)
    }

    // MARK: Slots

    /// The slot of `name`, created on first use (constants are materialised).
    mutating func slot(for name: String) -> Slot {
        if let s = slots[name] { return s }
        let value = analysis.values[name]!
        var s = Slot(type: value.type, buffer: nil, tensor: nil)
        if value.type.dataType == .float32 {
            s.buffer = memory.reserve(value.type.count)
            if let c = value.constant {
                memory.pin(s.buffer!)
                memory.write(c, to: s)
            }
        } else {
            s.tensor = memory.addTensor(value.constant)
        }
        slots[name] = s
        return s
    }

    /// Makes `output` share `input`'s float buffer under its own shape (Reshape and friends).
    mutating func alias(_ output: String, to input: String) {
        var s = slot(for: input)
        s.type = analysis.type(of: output)
        slots[output] = s
        // Same memory, same layout (`feedsOnlyFeatureMajorReaders` allowed only readers that expect it).
        if let layout = activationLayouts[input] { activationLayouts[output] = layout }
    }

    func constant(_ name: String?) -> Tensor? {
        guard let name, !name.isEmpty else { return nil }
        return analysis.values[name]?.constant
    }

    func type(_ name: String) -> ValueType { analysis.type(of: name) }

    /// Whether a fused step may keep `value` to itself (never write it, or write it in its own
    /// layout): fusion is on and nobody outside the plan reads it (not a graph output, not observed).
    func isPrivate(_ value: String) -> Bool {
        options.fuse && !graphOutputs.contains(value) && !options.observed.contains(value)
    }

    /// The single node reading `value`, when fusing across `value` is allowed.
    func soleConsumer(_ value: String) -> Int? {
        guard isPrivate(value), let users = consumers[value], users.count == 1 else { return nil }
        return users[0]
    }

    /// For each element of a `shape`-shaped result, the flat index of the element of `value`
    /// broadcast to it (NumPy rules); nil when `value` already has that shape.
    func broadcastIndices(_ value: String, to shape: [Int]) -> [Int]? {
        type(value).shape == shape ? nil : Broadcast.sourceIndices(from: type(value).shape, to: shape)
    }

    // MARK: Emission

    mutating func emit(_ node: Node, index: Int) throws {
        let floatIn = node.input(0).map { type($0).dataType == .float32 } ?? false
        if let blocked = node.inputs.first(where: channelBlocked.contains), !Self.channelBlockedReaders.contains(node.opType) {
            throw GraphError.shapeMismatch(node: node.name, opType: node.opType,
                                           reason: "reads the channel-blocked value '\(blocked)' (internal)")
        }
        switch node.opType {
        case "Conv" where floatIn:
            if try emitConv(node, index: index) { return }
            // Not a kernel we run: the Pad folded into it must run on its own after all.
            if let fusion = padFusions[index] { try emitFallback(graph.nodes[fusion.pad]) }
        case "Gemm" where floatIn:
            if try emitGemm(node) { return }
        case "MatMul" where floatIn:
            if try emitMatMul(node) { return }
        case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min":
            if emitBinary(node) { return }
        case "Relu", "Sigmoid", "Tanh", "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Neg", "Clip":
            if floatIn, emitUnary(node) { return }
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout":
            if floatIn, node.outputs.count == 1 || node.outputs.dropFirst().allSatisfy(\.isEmpty) {
                alias(node.outputs[0], to: node.inputs[0])
                return
            }
        case "BatchNormalization" where floatIn:
            if try emitBatchNorm(node) { return }
        case "Softmax" where floatIn, "LogSoftmax" where floatIn:
            if try emitSoftmax(node) { return }
        case "LayerNormalization" where floatIn:
            if try emitLayerNorm(node) { return }
        case "ReduceMean" where floatIn:
            if try emitDecomposedLayerNorm(node, index: index) { return }
        case "MaxPool" where floatIn, "AveragePool" where floatIn:
            if try emitPool(node) { return }
        case "GlobalAveragePool" where floatIn:
            let x = type(node.inputs[0])
            if channelBlocked.contains(node.inputs[0]) {
                steps.append(BlockedGlobalAveragePoolStep(nodeName: node.name, batch: x.shape[0], channels: x.shape[1],
                                                          plane: x.shape[2] * x.shape[3], input: slot(for: node.inputs[0]).buffer!,
                                                          output: slot(for: node.outputs[0]).buffer!))
                return
            }
            if x.shape.count >= 3 {
                let planes = x.shape[0] * x.shape[1]
                steps.append(GlobalAveragePoolStep(nodeName: node.name, planes: planes, planeSize: x.count / max(planes, 1),
                                                   input: slot(for: node.inputs[0]).buffer!, output: slot(for: node.outputs[0]).buffer!))
                return
            }
        case "Transpose" where floatIn:
            let x = type(node.inputs[0])
            let perm = try node.ints("perm", default: Array((0..<x.shape.count).reversed())) ?? []
            steps.append(TransposeStep(nodeName: node.name, inShape: x.shape, permutation: perm,
                                       input: slot(for: node.inputs[0]).buffer!, output: slot(for: node.outputs[0]).buffer!))
            return
        case "Concat" where floatIn:
            if try emitConcat(node) { return }
        case "Gather":
            if emitGatherRows(node) { return }
        case "Where":
            if emitWhere(node) { return }
        case "And", "Or", "Xor", "Expand":
            if emitBoolBroadcast(node) { return }
        default:
            break
        }
        try emitFallback(node)
    }

    mutating func emitFallback(_ node: Node) throws {
        let semantics = try OperatorRegistry.semantics(for: node, opset: graph.opsetVersion)
        let constants: [Tensor?] = node.inputs.map { constant($0) }
        var inputSlots: [Slot?] = []
        for (name, c) in zip(node.inputs, constants) { inputSlots.append(name.isEmpty || c != nil ? nil : slot(for: name)) }
        let outputSlots: [Slot?] = node.outputs.map { name in
            name.isEmpty || analysis.values[name] == nil ? nil : slot(for: name)
        }
        steps.append(FallbackStep(node: node, semantics: semantics, opset: graph.opsetVersion,
                                  inputSlots: inputSlots, constants: constants, outputSlots: outputSlots))
    }

    /// A Clip node's bounds: attributes before opset 11, constant inputs from 11 on; nil when a
    /// bound input is only known at run time.
    func clipBounds(_ node: Node) -> (Float, Float)? {
        var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
        if node.attributes["min"] != nil, let v = try? node.float("min") { lo = v }
        if node.attributes["max"] != nil, let v = try? node.float("max") { hi = v }
        if let name = node.input(1) {
            guard let c = constant(name) else { return nil }
            lo = Float(c.doubles.first ?? Double(lo))
        }
        if let name = node.input(2) {
            guard let c = constant(name) else { return nil }
            hi = Float(c.doubles.first ?? Double(hi))
        }
        return (lo, hi)
    }

    /// Follows `value` into a fusable activation; returns the activation and the final value.
    mutating func fuseActivation(after value: String) -> (Activation, String) {
        if let gelu = matchGELU(after: value) {
            fused.formUnion(gelu.nodes)
            return (.gelu, gelu.output)
        }
        guard let next = soleConsumer(value) else { return (.none, value) }
        let node = graph.nodes[next]
        switch node.opType {
        case "Relu":
            fused.insert(next)
            return (.relu, node.outputs[0])
        case "Clip":
            guard let (lo, hi) = clipBounds(node) else { return (.none, value) }
            fused.insert(next)
            return (.clip(lo, hi), node.outputs[0])
        default:
            return (.none, value)
        }
    }

    // MARK: Workspace

    mutating func requestWorkspace(_ size: Int) -> UnsafeMutablePointer<Float>? {
        guard size > 0 else { return nil }
        if size > workspaceSize {
            // Grow: steps compiled so far keep their (smaller) workspace; new ones share the larger.
            let index = memory.reserve(size)
            memory.pin(index)
            workspace = memory.pointer(index)
            workspaceSize = size
        }
        return workspace
    }

    // MARK: Convolution

    /// Conv geometry from the node's attributes, or nil for non-2-D convolutions.
    func convGeometry(_ node: Node, input: ValueType, outChannels: Int, kernel: [Int], groups: Int) throws -> ConvGeometry? {
        guard kernel.count == 2, input.shape.count == 4, groups > 0, input.shape[1] % groups == 0 else { return nil }
        return try ConvGeometry(node: node, input: input.shape,
                                weight: [outChannels, input.shape[1] / groups, kernel[0], kernel[1]])
    }

    /// Finds `Pad(constant 0, spatial only) → Conv` pairs (TensorFlow-style SAME padding as
    /// exported by torch) so the convolution pads instead of a separate copy.
    mutating func findPadFusions() throws {
        guard options.fuse else { return }
        for index in analysis.order {
            let pad = graph.nodes[index]
            guard pad.opType == "Pad", let data = pad.input(0), type(data).shape.count == 4,
                  type(data).dataType == .float32, try pad.string("mode", default: "constant") == "constant",
                  pad.input(3) == nil, let next = soleConsumer(pad.outputs[0]) else { continue }
            let conv = graph.nodes[next]
            guard conv.opType == "Conv", conv.input(0) == pad.outputs[0],
                  try conv.string("auto_pad", default: "NOTSET") == "NOTSET" else { continue }
            var pads: [Int]
            if let name = pad.input(1) {
                guard let c = constant(name), c.dataType.isInteger else { continue }
                pads = c.integers.map { Int($0) }
            } else {
                pads = try pad.ints("pads") ?? []
            }
            if let name = pad.input(2) {
                guard let c = constant(name), c.count == 1, c.doubles[0] == 0 else { continue }
            } else if try pad.float("value", default: 0) != 0 {
                continue
            }
            // ONNX order: [x1_begin, x2_begin, …, x1_end, x2_end, …] over N, C, H, W.
            guard pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0,
                  pads.allSatisfy({ $0 >= 0 }) else { continue }
            padFusions[next] = (index, data, [pads[2], pads[3], pads[6], pads[7]])
            fused.insert(index)
        }
    }

    mutating func emitConv(_ node: Node, index: Int) throws -> Bool {
        guard let w = constant(node.input(1)), w.rank == 4 else { return false }
        let padFusion = padFusions[index]
        let inputName = padFusion?.input ?? node.inputs[0]
        let x = type(inputName)
        let groups = try node.int("group", default: 1)
        guard var g = try convGeometry(node, input: x, outChannels: w.shape[0], kernel: [w.shape[2], w.shape[3]], groups: groups),
              groups > 0, x.shape[1] % groups == 0, w.shape[1] * groups == x.shape[1], w.shape[0] % groups == 0 else { return false }
        if let extra = padFusion?.pads {
            g.padTop += extra[0]; g.padLeft += extra[1]; g.padBottom += extra[2]; g.padRight += extra[3]
        }
        var weights = w.floats
        var bias: [Float]? = nil
        if let name = node.input(2) {
            guard let b = constant(name) else { return false }
            bias = b.floats
        }
        var out = node.outputs[0]
        // Fold a following BatchNormalization with constant parameters.
        if options.foldBatchNorm, let next = soleConsumer(out), graph.nodes[next].opType == "BatchNormalization",
           let (scale, shift) = try batchNormAffine(graph.nodes[next]), scale.count == g.outChannels {
            let perChannel = weights.count / g.outChannels
            for o in 0..<g.outChannels {
                for i in 0..<perChannel { weights[o * perChannel + i] *= scale[o] }
            }
            bias = (0..<g.outChannels).map { o in (bias?[o] ?? 0) * scale[o] + shift[o] }
            fused.insert(next)
            out = graph.nodes[next].outputs[0]
        }
        let residual = g.isDepthwise ? nil : fuseResidualAdd(after: &out)
        let (activation, final) = fuseActivation(after: out)
        guard type(final).shape == [g.batch, g.outChannels, g.outHeight, g.outWidth] else {
            throw GraphError.shapeMismatch(node: node.name, opType: "Conv", reason: "engine geometry disagrees with inferred shape (internal)")
        }
        let (inputBlocked, outputBlocked) = (channelBlocked.contains(inputName), channelBlocked.contains(final))
        let residualBlocked = residual.map(channelBlocked.contains) ?? false
        let sparse = !g.isDepthwise && options.sparseKernels.prefersSparse(density: Density.of(weights))
        // A dense convolution of a region of the dense model runs on the direct kernel even
        // between sparse neighbours (converting NCHW data in the workspace; see `findChannelBlocking`).
        if inputBlocked || outputBlocked || residualBlocked || (!sparse && directWhenDense.contains(index)) {
            guard DirectConvolution.supports(g, inputBlocked: inputBlocked), activation.clampBounds != nil || !outputBlocked else {
                throw GraphError.shapeMismatch(node: node.name, opType: "Conv", reason: "channel-blocked but not a direct convolution (internal)")
            }
            if let residual, outputBlocked, residualBlocked {
                writeInPlace(final, over: residual, input: inputName)
            }
            let step = DirectConvStep(nodeName: node.name, geometry: g, weight: weights, bias: bias, activation: activation,
                                      input: slot(for: inputName).buffer!, inputBlocked: inputBlocked,
                                      output: slot(for: final).buffer!, outputBlocked: outputBlocked,
                                      residual: residual.map { slot(for: $0).buffer! }, residualBlocked: residualBlocked)
            step.staging = requestWorkspace(step.convolution.stagingSize(outputBlocked: outputBlocked))
            steps.append(step)
            return true
        }
        if sparse {
            steps.append(SparseConvStep(nodeName: node.name, geometry: g, weight: weights, bias: bias, activation: activation,
                                        input: slot(for: inputName).buffer!, output: slot(for: final).buffer!,
                                        residual: residual.map { slot(for: $0).buffer! }, threads: options.threads,
                                        workspace: requestWorkspace(SparseConvolution.phaseBufferSize(g))))
            return true
        }
        let ws = requestWorkspace(ConvStep.workspaceSize(g) * (g.batch >= options.threads ? options.threads : 1))
        steps.append(ConvStep(nodeName: node.name, geometry: g, weight: weights, bias: bias, activation: activation,
                              input: slot(for: inputName).buffer!, output: slot(for: final).buffer!,
                              residual: residual.map { slot(for: $0).buffer! }, workspace: ws,
                              threads: options.threads))
        return true
    }

    /// Folds `Add(value, other)` into the step producing `value` (ResNet's shortcut): `other` must
    /// be a float tensor of the same shape that an earlier step has already computed (whichever
    /// branch of a block is emitted last takes the Add), and the activation after the sum, if any,
    /// a clamp (the kernels add the residual before their ReLU/Clip, not before GELU). On success
    /// `value` becomes the Add's output and the residual operand is returned.
    mutating func fuseResidualAdd(after value: inout String) -> String? {
        guard let next = soleConsumer(value) else { return nil }
        let add = graph.nodes[next]
        guard add.opType == "Add", add.inputs.count == 2, add.inputs[0] != add.inputs[1],
              let other = add.inputs.first(where: { $0 != value }),
              type(other).dataType == .float32, type(other).shape == type(value).shape,
              type(add.outputs[0]).shape == type(value).shape,
              analysis.values[other]?.constant == nil, slots[other]?.buffer != nil,
              matchGELU(after: add.outputs[0]) == nil else { return nil }
        fused.insert(next)
        value = add.outputs[0]
        return other
    }

    /// Lets the step being emitted write `output` into the buffer of `residual`, the operand it
    /// adds element by element (each output element overwrites the residual element it has just
    /// read), when nothing reads that buffer after the step: no later node, no alias, no one
    /// outside the plan, and not the step's own `input` (which other tiles still read). The write
    /// then finds its cache lines already loaded instead of reading them from memory first, as a
    /// separate output buffer would. Every other reader of the buffer must already be emitted
    /// (visited, or fused into an emitted step).
    mutating func writeInPlace(_ output: String, over residual: String, input: String) {
        guard slots[output] == nil, isPrivate(output), let buffer = slots[residual]?.buffer, !memory.pinned.contains(buffer),
              slots[input]?.buffer != buffer, type(output).count == type(residual).count else { return }
        let done = { (node: Int) in self.visited.contains(node) || (self.fused.contains(node) && !self.prefused.contains(node)) }
        // Every value held in the buffer (the residual, its aliases, earlier in-place results).
        for (name, slot) in slots where slot.buffer == buffer {
            guard isPrivate(name), (consumers[name] ?? []).allSatisfy(done) else { return }
        }
        slots[output] = Slot(type: type(output), buffer: buffer, tensor: nil)
    }

    /// Inference-mode BatchNormalization as a per-channel scale and shift (constant parameters).
    func batchNormAffine(_ node: Node) throws -> ([Float], [Float])? {
        guard let s = constant(node.input(1)), let b = constant(node.input(2)),
              let mean = constant(node.input(3)), let variance = constant(node.input(4)),
              node.outputs.dropFirst().allSatisfy(\.isEmpty) else { return nil }
        if try node.int("training_mode", default: 0) != 0 { return nil }
        let eps = try node.float("epsilon", default: 1e-5)
        let (sv, bv, mv, vv) = (s.floats, b.floats, mean.floats, variance.floats)
        guard sv.count == bv.count, sv.count == mv.count, sv.count == vv.count else { return nil }
        let scale = (0..<sv.count).map { sv[$0] / (vv[$0] + eps).squareRoot() }
        let shift = (0..<sv.count).map { bv[$0] - mv[$0] * scale[$0] }
        return (scale, shift)
    }

    mutating func emitBatchNorm(_ node: Node) throws -> Bool {
        let x = type(node.inputs[0])
        guard x.shape.count >= 2, let (scale, shift) = try batchNormAffine(node), scale.count == x.shape[1] else { return false }
        let (activation, final) = fuseActivation(after: node.outputs[0])
        steps.append(ChannelAffineStep(nodeName: node.name, batch: x.shape[0], channels: x.shape[1],
                                       plane: x.count / max(1, x.shape[0] * x.shape[1]), scale: scale, shift: shift,
                                       activation: activation, input: slot(for: node.inputs[0]).buffer!,
                                       output: slot(for: final).buffer!))
        return true
    }

    // MARK: Matrix products

    mutating func emitGemm(_ node: Node) throws -> Bool {
        guard let w = constant(node.input(1)), w.rank == 2 else { return false }
        let a = type(node.inputs[0])
        guard a.shape.count == 2 else { return false }
        let transA = try node.int("transA", default: 0) != 0, transB = try node.int("transB", default: 0) != 0
        let alpha = try node.float("alpha", default: 1), beta = try node.float("beta", default: 1)
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? w.shape[0] : w.shape[1]
        guard (transB ? w.shape[1] : w.shape[0]) == k else { return false }
        var bias: [Float]? = nil
        if let name = node.input(2) {
            guard let c = constant(name), c.dataType == .float32 else { return false }
            if c.count == n && (c.rank == 1 || (c.rank == 2 && c.shape[0] == 1)) {
                bias = c.floats.map { $0 * beta }
            } else if c.count == 1 {
                bias = [Float](repeating: c.floats[0] * beta, count: n)
            } else {
                return false
            }
        }
        let (activation, final) = fuseActivation(after: node.outputs[0])
        if !transA, options.sparseKernels.prefersSparse(density: Density.of(w.floats)) {
            steps.append(SparseLinearStep(nodeName: node.name, m: m, n: n, k: k, alpha: alpha, weightTransposed: transB,
                                          weight: w.floats, bias: bias, activation: activation,
                                          input: slot(for: node.inputs[0]).buffer!, output: slot(for: final).buffer!,
                                          threads: options.threads))
            return true
        }
        steps.append(LinearStep(nodeName: node.name, m: m, n: n, k: k, alpha: alpha, inputTransposed: transA,
                                weightTransposed: transB, weight: w.floats, bias: bias, activation: activation,
                                input: slot(for: node.inputs[0]).buffer!, output: slot(for: final).buffer!))
        return true
    }

    mutating func emitMatMul(_ node: Node) throws -> Bool {
        let a = type(node.inputs[0]), b = type(node.inputs[1])
        guard a.shape.count >= 2, b.shape.count >= 2, b.dataType == .float32 else { return false }
        if let w = constant(node.inputs[1]), w.rank == 2 {
            let k = w.shape[0], n = w.shape[1]
            let m = a.count / max(k, 1)
            var out = node.outputs[0]
            var bias: [Float]? = nil
            // Fuse `+ bias` with a constant [N] bias (torch exports Linear as MatMul + Add).
            if let next = soleConsumer(out), graph.nodes[next].opType == "Add" {
                let add = graph.nodes[next]
                let other = add.inputs[0] == out ? add.input(1) : add.input(0)
                if let c = constant(other), c.dataType == .float32, c.count == n, c.shape.last == n,
                   type(add.outputs[0]).shape == type(out).shape {
                    bias = c.floats
                    fused.insert(next)
                    out = add.outputs[0]
                }
            }
            let (activation, final) = fuseActivation(after: out)
            if options.sparseKernels.prefersSparse(density: Density.of(w.floats)) {
                let outputLayout = linearOutputLayout(final, tokens: m, features: n, sparse: true, readsBlocks: false)
                steps.append(SparseLinearStep(nodeName: node.name, m: m, n: n, k: k, alpha: 1, weightTransposed: false,
                                              weight: w.floats, bias: bias, activation: activation,
                                              input: slot(for: node.inputs[0]).buffer!, output: slot(for: final).buffer!,
                                              threads: options.threads,
                                              inputLayout: layout(of: node.inputs[0]),
                                              outputLayout: outputLayout))
                return true
            }
            let inputLayout = layout(of: node.inputs[0])
            precondition(!inputLayout.isFeatureMajor, "feature-major input for a dense Linear")
            let outputLayout = linearOutputLayout(final, tokens: m, features: n, sparse: false,
                                                  readsBlocks: inputLayout.tokenBlockWidth != nil)
            steps.append(LinearStep(nodeName: node.name, m: m, n: n, k: k, alpha: 1, inputTransposed: false,
                                    weightTransposed: false, weight: w.floats, bias: bias, activation: activation,
                                    input: slot(for: node.inputs[0]).buffer!, output: slot(for: final).buffer!,
                                    inputLayout: inputLayout, outputLayout: outputLayout, threads: options.threads))
            return true
        }
        let m = a.shape[a.shape.count - 2], k = a.shape[a.shape.count - 1], n = b.shape[b.shape.count - 1]
        guard b.shape[b.shape.count - 2] == k else { return false }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        guard let batch = Broadcast.shape([batchA, batchB]) else { return false }
        let ia = Broadcast.sourceIndices(from: batchA, to: batch), ib = Broadcast.sourceIndices(from: batchB, to: batch)
        steps.append(BatchedMatMulStep(nodeName: node.name, m: m, n: n, k: k, aBatch: ia, bBatch: ib,
                                       a: slot(for: node.inputs[0]).buffer!, b: slot(for: node.inputs[1]).buffer!,
                                       output: slot(for: node.outputs[0]).buffer!, threads: options.threads))
        return true
    }

    // MARK: Elementwise

    mutating func emitBinary(_ node: Node) -> Bool {
        guard node.inputs.count == 2, let a = node.input(0), let b = node.input(1),
              type(a).dataType == .float32, type(b).dataType == .float32,
              let op = BinaryStep.Operation(rawValue: node.opType.lowercased()) else { return false }
        let (activation, final) = fuseActivation(after: node.outputs[0])
        steps.append(BinaryStep(nodeName: node.name, operation: op, outShape: type(node.outputs[0]).shape,
                                shapeA: type(a).shape, shapeB: type(b).shape, a: slot(for: a).buffer!,
                                b: slot(for: b).buffer!, output: slot(for: final).buffer!, activation: activation))
        return true
    }

    mutating func emitUnary(_ node: Node) -> Bool {
        let x = node.inputs[0]
        var out = node.outputs[0]
        var function: UnaryStep.Function
        var clip: (Float, Float)? = nil
        switch node.opType {
        case "Clip":
            guard let bounds = clipBounds(node) else { return false }
            let (lo, hi) = bounds
            function = .relu
            clip = (lo, hi)
        default:
            guard let f = UnaryStep.Function(rawValue: node.opType.lowercased()) else { return false }
            function = f
        }
        // SiLU as torch exports it: y = x * Sigmoid(x).
        if function == .sigmoid, let next = soleConsumer(out), graph.nodes[next].opType == "Mul" {
            let mul = graph.nodes[next]
            if mul.inputs.count == 2, Set(mul.inputs) == Set([x, out]), type(mul.outputs[0]).shape == type(x).shape {
                fused.insert(next)
                function = .silu
                out = mul.outputs[0]
            }
        }
        steps.append(UnaryStep(nodeName: node.name, function: function, clip: clip, count: type(x).count,
                               input: slot(for: x).buffer!, output: slot(for: out).buffer!))
        return true
    }

    // MARK: Rows, pools, layout

    mutating func emitSoftmax(_ node: Node) throws -> Bool {
        let x = type(node.inputs[0])
        let rank = x.shape.count
        guard rank >= 1 else { return false }
        var axis = try node.int("axis", default: graph.opsetVersion >= 13 ? -1 : 1)
        if axis < 0 { axis += rank }
        guard axis == rank - 1 else { return false }
        let width = x.shape[rank - 1]
        steps.append(SoftmaxStep(nodeName: node.name, rows: x.count / max(width, 1), width: width,
                                 logarithmic: node.opType == "LogSoftmax", input: slot(for: node.inputs[0]).buffer!,
                                 output: slot(for: node.outputs[0]).buffer!))
        return true
    }

    /// A LayerNormalization node's width, epsilon, scale and bias, when the engine runs it
    /// (last axis, constant parameters, no extra outputs).
    func layerNormParameters(_ node: Node) -> (width: Int, epsilon: Float, scale: [Float], bias: [Float])? {
        guard let input = node.input(0), type(input).dataType == .float32 else { return nil }
        let x = type(input)
        let rank = x.shape.count
        guard var axis = try? node.int("axis", default: -1) else { return nil }
        if axis < 0 { axis += rank }
        guard rank >= 1, axis == rank - 1, node.outputs.dropFirst().allSatisfy(\.isEmpty),
              let scale = constant(node.input(1)), let epsilon = try? node.float("epsilon", default: 1e-5) else { return nil }
        let width = x.shape[rank - 1]
        let bias = constant(node.input(2))?.floats ?? [Float](repeating: 0, count: width)
        guard scale.count == width, bias.count == width else { return nil }
        return (width, epsilon, scale.floats, bias)
    }

    mutating func emitLayerNorm(_ node: Node) throws -> Bool {
        guard let p = layerNormParameters(node) else { return false }
        emitLayerNormStep(nodeName: node.name, input: node.inputs[0], output: node.outputs[0], width: p.width,
                          epsilon: p.epsilon, scale: p.scale, bias: p.bias)
        return true
    }

    /// The window and kind of a MaxPool or AveragePool node the pool steps run, or nil.
    func poolGeometry(_ node: Node) throws -> (geometry: ConvGeometry, kind: PoolStep.Kind)? {
        let x = type(node.inputs[0])
        guard x.shape.count == 4, node.outputs.dropFirst().allSatisfy(\.isEmpty),
              let kernel = try node.ints("kernel_shape"), kernel.count == 2,
              var g = try convGeometry(node, input: x, outChannels: x.shape[1], kernel: kernel, groups: 1) else { return nil }
        let out = type(node.outputs[0]).shape
        let ceil = try node.int("ceil_mode", default: 0) != 0
        let isMax = node.opType == "MaxPool"
        if ceil {
            guard isMax else { return nil }
            // Extend bottom/right padding so the floor formula yields the ceil-mode size;
            // the extra taps fall outside the image and are skipped by max pooling.
            while g.outHeight < out[2] { g.padBottom += 1 }
            while g.outWidth < out[3] { g.padRight += 1 }
        }
        guard [g.batch, g.inChannels, g.outHeight, g.outWidth] == out else { return nil }
        return (g, isMax ? .max : .average(countIncludePad: try node.int("count_include_pad", default: 0) != 0))
    }

    mutating func emitPool(_ node: Node) throws -> Bool {
        guard let (g, kind) = try poolGeometry(node) else { return false }
        if channelBlocked.contains(node.inputs[0]) {
            steps.append(BlockedMaxPoolStep(nodeName: node.name, geometry: g, input: slot(for: node.inputs[0]).buffer!,
                                            output: slot(for: node.outputs[0]).buffer!))
            return true
        }
        steps.append(PoolStep(nodeName: node.name, kind: kind, geometry: g, input: slot(for: node.inputs[0]).buffer!,
                              output: slot(for: node.outputs[0]).buffer!))
        return true
    }

    mutating func emitConcat(_ node: Node) throws -> Bool {
        let out = type(node.outputs[0])
        var axis = try node.int("axis")
        if axis < 0 { axis += out.shape.count }
        guard axis >= 0, axis < out.shape.count else { return false }
        let inputs = node.inputs.filter { !$0.isEmpty }
        guard inputs.allSatisfy({ type($0).dataType == .float32 }) else { return false }
        let outer = out.shape[..<axis].reduce(1, *)
        let blocks = inputs.map { type($0).count / max(outer, 1) }
        let slotsIn = inputs.map { slot(for: $0).buffer! }
        steps.append(ConcatStep(nodeName: node.name, outer: outer, blocks: blocks, inputs: slotsIn,
                                output: slot(for: node.outputs[0]).buffer!))
        return true
    }
}
