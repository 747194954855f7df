import SPDYTensor

/// `Expand`: broadcasts input 0 against the shape in input 1 (bidirectionally, as NumPy: the
/// output is the broadcast of both shapes, so a 1 in `shape` keeps a larger input dimension).
enum ExpandOp: OperatorSemantics {
    static let opType = "Expand"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        return [ValueType(data.type.dataType, try outputShape(node, data.type.shape, try constant(inputs, 1, node)))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        return [data.broadcast(to: try outputShape(node, data.shape, try required(inputs, 1, node)))]
    }

    static func outputShape(_ node: Node, _ input: [Int], _ shapeTensor: Tensor) throws -> [Int] {
        guard shapeTensor.rank == 1 else { throw shapeError(node, "the shape input must be 1-D, got \(shapeTensor.shape)") }
        let requested = try checkedShape(try intValues(shapeTensor, node, "shape"), node)
        guard let out = Broadcast.shape([input, requested]) else {
            throw shapeError(node, "input shape \(input) cannot be expanded to \(requested)")
        }
        return try checkedShape(out, node)
    }
}

/// `Tile`: repeats the input `repeats[i]` times along each axis i (`repeats`: 1-D int64 input of
/// length rank, values ≥ 0).
enum TileOp: OperatorSemantics {
    static let opType = "Tile"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        return [ValueType(data.type.dataType, try outputShape(node, data.type.shape, try constant(inputs, 1, node)))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        let shape = try outputShape(node, data.shape, try required(inputs, 1, node))
        let strides = Tensor.strides(data.shape)
        var indices: [Int] = []
        indices.reserveCapacity(Tensor.elementCount(shape))
        forEachCoordinate(shape) { c in
            var offset = 0
            for i in 0..<c.count { offset += (c[i] % data.shape[i]) * strides[i] }
            indices.append(offset)
        }
        return [data.gathered(flatIndices: indices, shape: shape)]
    }

    static func outputShape(_ node: Node, _ input: [Int], _ repeatsTensor: Tensor) throws -> [Int] {
        let repeats = try intValues(repeatsTensor, node, "repeats")
        guard repeatsTensor.rank == 1, repeats.count == input.count else {
            throw shapeError(node, "repeats \(repeats) must be 1-D with one entry per input axis (rank \(input.count))")
        }
        guard repeats.allSatisfy({ $0 >= 0 }) else { throw shapeError(node, "repeats \(repeats) has a negative entry") }
        return try checkedShape(try zip(input, repeats).map { try checkedProduct([$0, $1], node) }, node)
    }
}
