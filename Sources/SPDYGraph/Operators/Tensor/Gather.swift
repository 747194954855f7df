import SPDYTensor

/// `Gather`: picks slices of `data` along `axis` (default 0) at `indices` (int32/int64; negative
/// counts from the back). Output shape: `data[..<axis] + indices.shape + data[(axis+1)...]`.
enum GatherOp: OperatorSemantics {
    static let opType = "Gather"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node), indices = try required(inputs, 1, node)
        guard indices.type.dataType == .int64 || indices.type.dataType == .int32 else {
            throw typeError(node, "indices must be int32 or int64, got \(indices.type.dataType)")
        }
        let (shape, _) = try plan(node, data: data.type.shape, indices: indices.type.shape)
        return [ValueType(data.type.dataType, shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node), indicesTensor = try required(inputs, 1, node)
        let (shape, axis) = try plan(node, data: data.shape, indices: indicesTensor.shape)
        let indices = try intValues(indicesTensor, node, "indices")
        let size = data.shape[axis]
        let outer = Tensor.elementCount(Array(data.shape[..<axis]))
        let inner = Tensor.elementCount(Array(data.shape[(axis + 1)...]))
        var flat: [Int] = []
        flat.reserveCapacity(outer * indices.count * inner)
        let resolved = try indices.map { i -> Int in
            guard i >= -size, i < size else { throw shapeError(node, "index \(i) is out of range [\(-size), \(size - 1)] on axis \(axis) of \(data.shape)") }
            return i < 0 ? i + size : i
        }
        for o in 0..<outer {
            for i in resolved {
                let start = (o * size + i) * inner
                flat.append(contentsOf: start..<(start + inner))
            }
        }
        return [data.gathered(flatIndices: flat, shape: shape)]
    }

    static func plan(_ node: Node, data: [Int], indices: [Int]) throws -> ([Int], Int) {
        guard !data.isEmpty else { throw shapeError(node, "cannot gather from a scalar") }
        let axis = try normalizedAxis(try node.int("axis", default: 0), rank: data.count, node)
        return (Array(data[..<axis]) + indices + Array(data[(axis + 1)...]), axis)
    }
}

/// `GatherElements`: `out[i…] = data[i…]` with coordinate `axis` replaced by `indices[i…]`.
/// `indices` has `data`'s rank; the output has `indices`' shape.
enum GatherElementsOp: OperatorSemantics {
    static let opType = "GatherElements"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node), indices = try required(inputs, 1, node)
        guard indices.type.dataType == .int64 || indices.type.dataType == .int32 else {
            throw typeError(node, "indices must be int32 or int64, got \(indices.type.dataType)")
        }
        _ = try plan(node, data: data.type.shape, indices: indices.type.shape)
        return [ValueType(data.type.dataType, indices.type.shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node), indicesTensor = try required(inputs, 1, node)
        let axis = try plan(node, data: data.shape, indices: indicesTensor.shape)
        let indices = try intValues(indicesTensor, node, "indices")
        let size = data.shape[axis]
        let strides = Tensor.strides(data.shape)
        var flat: [Int] = []
        flat.reserveCapacity(indices.count)
        var n = 0
        try forEachCoordinate(indicesTensor.shape) { c in
            let i = indices[n]
            n += 1
            guard i >= -size, i < size else { throw shapeError(node, "index \(i) is out of range [\(-size), \(size - 1)] on axis \(axis) of \(data.shape)") }
            var coordinate = c
            coordinate[axis] = i < 0 ? i + size : i
            flat.append(flatOffset(coordinate, strides))
        }
        return [data.gathered(flatIndices: flat, shape: indicesTensor.shape)]
    }

    static func plan(_ node: Node, data: [Int], indices: [Int]) throws -> Int {
        guard !data.isEmpty else { throw shapeError(node, "cannot gather from a scalar") }
        let axis = try normalizedAxis(try node.int("axis", default: 0), rank: data.count, node)
        guard indices.count == data.count,
              (0..<data.count).allSatisfy({ $0 == axis || indices[$0] <= data[$0] }) else {
            throw shapeError(node, "indices shape \(indices) does not fit data shape \(data) outside axis \(axis)")
        }
        return axis
    }
}
