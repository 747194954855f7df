import SPDYTensor

/// `Split`: cuts the input along `axis` (default 0) into one part per output.
///
/// Part sizes: the `split` attribute before opset 13, the optional `split` input (1-D int64,
/// summing to the axis size) from 13. Without them the axis is divided equally among the
/// outputs (it must divide evenly), except from opset 18 with `num_outputs`, where every part
/// is `ceil(d / n)` long and the last is smaller.
enum SplitOp: OperatorSemantics {
    static let opType = "Split"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        let (axis, sizes) = try plan(node, shape: data.type.shape, inputs: inputs, opset: opset)
        return sizes.map { size in
            var shape = data.type.shape
            shape[axis] = size
            return ValueType(data.type.dataType, shape)
        }
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        let (axis, sizes) = try plan(node, shape: data.shape, inputs: staticInputs(inputs), opset: opset)
        let d = data.shape[axis]
        let outer = Tensor.elementCount(Array(data.shape[..<axis]))
        let inner = Tensor.elementCount(Array(data.shape[(axis + 1)...]))
        var offset = 0
        return sizes.map { size in
            var shape = data.shape
            shape[axis] = size
            var indices: [Int] = []
            indices.reserveCapacity(outer * size * inner)
            for o in 0..<outer {
                let start = (o * d + offset) * inner
                indices.append(contentsOf: start..<(start + size * inner))
            }
            offset += size
            return data.gathered(flatIndices: indices, shape: shape)
        }
    }

    /// The normalised axis and the size of each part.
    static func plan(_ node: Node, shape: [Int], inputs: [StaticValue?], opset: Int) throws -> (Int, [Int]) {
        guard !shape.isEmpty else { throw shapeError(node, "cannot split a scalar") }
        let axis = try normalizedAxis(try node.int("axis", default: 0), rank: shape.count, node)
        let d = shape[axis]
        let parts = node.outputs.count
        guard parts > 0 else { throw shapeError(node, "has no outputs") }
        let given: [Int]?
        if opset >= 13 {
            if node.attributes["split"] != nil {
                throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "split",
                                              reason: "is an input (not an attribute) from opset 13 on; this model declares opset \(opset)")
            }
            given = try optionalConstantInts(inputs, 1, node, "split")
        } else {
            given = try node.ints("split")
        }
        if let sizes = given {
            guard sizes.count == parts, sizes.allSatisfy({ $0 >= 0 }), try checkedSum(sizes, node) == d else {
                throw shapeError(node, "split \(sizes) does not divide axis \(axis) (size \(d)) into \(parts) outputs")
            }
            return (axis, sizes)
        }
        if opset >= 18, node.attributes["num_outputs"] != nil {
            let n = try node.int("num_outputs")
            guard n == parts, n > 0 else {
                throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "num_outputs",
                                              reason: "is \(n) but the node has \(parts) outputs")
            }
            let chunk = (d + n - 1) / n
            return (axis, (0..<n).map { max(0, min(chunk, d - $0 * chunk)) })
        }
        guard d % parts == 0 else {
            throw shapeError(node, "axis \(axis) (size \(d)) does not divide evenly into \(parts) outputs")
        }
        return (axis, [Int](repeating: d / parts, count: parts))
    }
}
