import SPDYGraph
import SPDYTensor

/// Builds the data-movement kernels from node attributes and constant inputs, reading them as the
/// `SPDYGraph` operator semantics do (the forward pass is checked against those semantics).
enum LayoutKernels {
    /// The kernel for a float data-movement node, or nil when `spec` is not one.
    static func kernel<S: TrainingScalar>(_ spec: KernelSpec, scalar: S.Type) throws -> AnyKernel<S>? {
        let node = spec.node
        guard spec.hasInput(0), spec.inputType(0).dataType == .float32, spec.outputTypes.first?.dataType == .float32 else { return nil }
        let x = spec.inputType(0).shape, y = spec.outputTypes[0].shape
        switch node.opType {
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity":
            return AnyKernel(AliasKernel<S>(inputShape: x, outputShape: y, dropoutMask: false))
        case "Cast":
            return AnyKernel(AliasKernel<S>(inputShape: x, outputShape: y, dropoutMask: false))
        case "Dropout":
            if spec.opset >= 12, spec.hasInput(2) {
                let training = try spec.constant(2).doubles.contains { $0 != 0 }
                let ratio = spec.hasInput(1) ? try spec.constant(1).doubles.first ?? 0.5 : 0.5
                if training && ratio != 0 { throw spec.unsupported("random dropout (training_mode with ratio \(ratio)) is not supported") }
            }
            return AnyKernel(AliasKernel<S>(inputShape: x, outputShape: y, dropoutMask: node.outputs.count > 1 && !node.outputs[1].isEmpty))
        case "Transpose":
            let perm = try node.ints("perm") ?? Array((0..<x.count).reversed())
            let strides = Tensor.strides(x)
            return AnyKernel(ViewKernel<S>(inputShape: x, outputShape: y, viewShape: y, inputStrides: perm.map { strides[$0] }, inputBase: 0))
        case "Expand":
            return AnyKernel(ViewKernel<S>(inputShape: x, outputShape: y, viewShape: y,
                                           inputStrides: StridedLayout.broadcastStrides(of: x, to: y), inputBase: 0))
        case "Tile":
            // Tile as an expansion: view x as [1, d0, 1, d1, …] repeated to [r0, d0, r1, d1, …].
            let repeats = try spec.constant(1).integers.map { Int($0) }
            guard repeats.count == x.count else { throw spec.unsupported("repeats \(repeats) for input rank \(x.count)") }
            let strides = Tensor.strides(x)
            var view: [Int] = [], viewStrides: [Int] = []
            for d in 0..<x.count {
                view += [repeats[d], x[d]]
                viewStrides += [0, strides[d]]
            }
            return AnyKernel(ViewKernel<S>(inputShape: x, outputShape: y, viewShape: view, inputStrides: viewStrides, inputBase: 0))
        case "Slice":
            let ranges = try SliceAxisRange.resolve(spec.node, shape: x, constants: spec.constants, opset: spec.opset)
            let strides = Tensor.strides(x)
            let base = zip(ranges, strides).reduce(0) { $0 + $1.0.start * $1.1 }
            return AnyKernel(ViewKernel<S>(inputShape: x, outputShape: y, viewShape: ranges.map(\.count),
                                           inputStrides: zip(ranges, strides).map { $0.step * $1 }, inputBase: base))
        case "Concat":
            var axis = try node.int("axis")
            if axis < 0 { axis += x.count }
            let shapes = (0..<node.inputs.count).compactMap { spec.hasInput($0) ? spec.inputType($0).shape : nil }
            guard shapes.count == node.inputs.count else { throw spec.unsupported("omitted inputs are not supported") }
            return AnyKernel(ConcatKernel<S>(inputShapes: shapes, outputShape: y, axis: axis))
        case "Split":
            var axis = try node.int("axis", default: 0)
            if axis < 0 { axis += x.count }
            return AnyKernel(SplitKernel<S>(inputShape: x, outputShapes: spec.outputTypes.map(\.shape), axis: axis))
        case "Pad":
            return try padKernel(spec, x: x, y: y)
        case "Gather":
            var axis = try node.int("axis", default: 0)
            if axis < 0 { axis += x.count }
            guard axis >= 0 && axis < x.count else { throw spec.unsupported("axis out of range for \(x)") }
            let size = x[axis]
            var constant: [Int]? = nil
            if let t = spec.constants.count > 1 ? spec.constants[1] : nil {
                constant = try t.integers.map { i in
                    guard i >= -Int64(size), i < Int64(size) else { throw spec.unsupported("index \(i) is out of range for axis size \(size)") }
                    return Int(i < 0 ? i + Int64(size) : i)
                }
                if t.rank == 0, let i = constant?.first {
                    // A scalar index is a slice with the axis removed.
                    var strides = Tensor.strides(x)
                    let base = i * strides[axis]
                    strides.remove(at: axis)
                    return AnyKernel(ViewKernel<S>(inputShape: x, outputShape: y, viewShape: y, inputStrides: strides, inputBase: base))
                }
            }
            return AnyKernel(GatherKernel<S>(dataShape: x, outputShape: y, axis: axis, constantIndices: constant, name: node.name))
        default:
            return nil
        }
    }

    /// A constant-mode `Pad` (pads and fill from inputs from opset 11, attributes before).
    static func padKernel<S: TrainingScalar>(_ spec: KernelSpec, x: [Int], y: [Int]) throws -> AnyKernel<S> {
        let node = spec.node
        let mode = try node.string("mode", default: "constant")
        guard mode == "constant" else { throw spec.unsupported("only constant padding is supported in training, not '\(mode)'") }
        let pads: [Int]
        var axes = Array(0..<x.count)
        var fill: Float = 0
        if spec.opset >= 11 {
            pads = try spec.constant(1).integers.map { Int($0) }
            if spec.hasInput(2) { fill = Float(try spec.constant(2).doubles.first ?? 0) }
            if spec.opset >= 18, spec.hasInput(3) { axes = try spec.constant(3).integers.map { Int($0) < 0 ? Int($0) + x.count : Int($0) } }
        } else {
            pads = try node.ints("pads") ?? []
            fill = try node.float("value", default: 0)
        }
        guard pads.count == 2 * axes.count else { throw spec.unsupported("pads \(pads) for axes \(axes)") }
        var begins = [Int](repeating: 0, count: x.count)
        for (k, axis) in axes.enumerated() { begins[axis] = pads[k] }
        return AnyKernel(PadKernel<S>(inputShape: x, outputShape: y, begins: begins, fill: S(fill)))
    }
}
