import SPDYTensor

/// One axis of a resolved `Slice`: first index, step and element count.
public struct SliceAxisRange: Equatable, Sendable {
    public var start: Int
    public var step: Int
    public var count: Int

    public init(start: Int, step: Int, count: Int) {
        self.start = start
        self.step = step
        self.count = count
    }

    /// The per-axis ranges (every axis; untouched ones full) of `Slice` node `node` on an input of
    /// `shape`, with `constants` the node's constant inputs by position (opset 10+: starts, ends,
    /// axes, steps), by ONNX's clamping rules. Errors name the node.
    public static func resolve(_ node: Node, shape: [Int], constants: [Tensor?], opset: Int) throws -> [SliceAxisRange] {
        try SliceOp.plan(node, shape: shape, inputs: constants.map { $0.map(StaticValue.init(constant:)) }, opset: opset)
    }
}

/// `Slice` (opset 10+: `starts`, `ends`, optional `axes` and `steps` are inputs 1–4; before 10
/// they were attributes, accepted too). Per axis, with dimension d:
/// negative starts/ends add d; then for step > 0 start is clamped to [0, d] and end to [0, d],
/// for step < 0 start to [0, d-1] and end to [-1, d-1]. Steps must be nonzero, axes distinct.
enum SliceOp: OperatorSemantics {
    static let opType = "Slice"

    typealias AxisRange = SliceAxisRange

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        let ranges = try plan(node, shape: data.type.shape, inputs: inputs, opset: opset)
        return [ValueType(data.type.dataType, ranges.map(\.count))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        let ranges = try plan(node, shape: data.shape, inputs: staticInputs(inputs), opset: opset)
        let shape = ranges.map(\.count)
        let strides = Tensor.strides(data.shape)
        var indices: [Int] = []
        indices.reserveCapacity(Tensor.elementCount(shape))
        forEachCoordinate(shape) { c in
            var offset = 0
            for i in 0..<c.count { offset += (ranges[i].start + c[i] * ranges[i].step) * strides[i] }
            indices.append(offset)
        }
        return [data.gathered(flatIndices: indices, shape: shape)]
    }

    /// The per-axis ranges of the output (every axis, untouched ones full).
    static func plan(_ node: Node, shape: [Int], inputs: [StaticValue?], opset: Int) throws -> [AxisRange] {
        let starts: [Int], ends: [Int], axesGiven: [Int]?, stepsGiven: [Int]?
        if opset >= 10 {
            starts = try intValues(try constant(inputs, 1, node), node, "starts")
            ends = try intValues(try constant(inputs, 2, node), node, "ends")
            axesGiven = try optionalConstantInts(inputs, 3, node, "axes")
            stepsGiven = try optionalConstantInts(inputs, 4, node, "steps")
        } else {
            guard let s = try node.ints("starts") else { throw GraphError.missingAttribute(node: node.name, opType: node.opType, attribute: "starts") }
            guard let e = try node.ints("ends") else { throw GraphError.missingAttribute(node: node.name, opType: node.opType, attribute: "ends") }
            (starts, ends, axesGiven, stepsGiven) = (s, e, try node.ints("axes"), nil)
        }
        let axes = try normalizedAxes(axesGiven ?? Array(0..<starts.count), rank: shape.count, node)
        let steps = stepsGiven ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw shapeError(node, "starts, ends, axes and steps have different lengths (\(starts.count), \(ends.count), \(axes.count), \(steps.count))")
        }
        var ranges = shape.map { AxisRange(start: 0, step: 1, count: $0) }
        for (k, axis) in axes.enumerated() {
            let d = shape[axis], step = steps[k]
            guard step != 0 else { throw shapeError(node, "step on axis \(axis) is 0") }
            // Starts/ends may be ±INT64_MAX; adding d to a negative value cannot overflow.
            var start = starts[k], end = ends[k]
            if start < 0 { start += d }
            if end < 0 { end += d }
            let count: Int
            let magnitude = Int(clamping: step.magnitude)  // steps may be ±INT64_MAX too
            if step > 0 {
                start = min(max(start, 0), d)
                end = min(max(end, 0), d)
                count = end > start ? (end - start - 1) / magnitude + 1 : 0
            } else {
                start = min(max(start, 0), d - 1)
                end = min(max(end, -1), d - 1)
                count = start > end ? (start - end - 1) / magnitude + 1 : 0
            }
            ranges[axis] = AxisRange(start: start, step: step, count: count)
        }
        return ranges
    }
}
