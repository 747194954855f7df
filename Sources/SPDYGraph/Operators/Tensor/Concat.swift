import SPDYTensor

/// `Concat`: joins inputs of one type and rank along `axis` (required; negative since opset 11).
/// All other dimensions must agree; empty inputs are allowed.
enum ConcatOp: OperatorSemantics {
    static let opType = "Concat"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let present = inputs.compactMap { $0 }
        let (type, shape, _) = try plan(node, types: present.map(\.type))
        return [ValueType(type, shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let present = inputs.compactMap { $0 }
        let (_, shape, axis) = try plan(node, types: present.map { ValueType($0.dataType, $0.shape) })
        let outer = Tensor.elementCount(Array(shape[..<axis]))
        let inner = Tensor.elementCount(Array(shape[(axis + 1)...]))
        // Flat indices into the inputs laid end to end.
        var indices: [Int] = []
        indices.reserveCapacity(Tensor.elementCount(shape))
        let blocks = present.map { $0.shape[axis] * inner }
        var bases: [Int] = []
        var base = 0
        for t in present { bases.append(base); base += t.count }
        for o in 0..<outer {
            for (k, block) in blocks.enumerated() {
                let start = bases[k] + o * block
                indices.append(contentsOf: start..<(start + block))
            }
        }
        return [Tensor.joined(present).gathered(flatIndices: indices, shape: shape)]
    }

    /// Element type, output shape and normalised axis.
    static func plan(_ node: Node, types: [ValueType]) throws -> (DataType, [Int], Int) {
        guard let first = types.first else { throw GraphError.missingInput(node: node.name, opType: node.opType, index: 0) }
        let rank = first.shape.count
        guard rank > 0 else { throw shapeError(node, "cannot concatenate scalars") }
        let axis = try normalizedAxis(try node.int("axis"), rank: rank, node)
        var shape = first.shape
        shape[axis] = 0
        for t in types {
            guard t.dataType == first.dataType else { throw typeError(node, "inputs mix \(first.dataType) and \(t.dataType)") }
            guard t.shape.count == rank,
                  (0..<rank).allSatisfy({ $0 == axis || t.shape[$0] == first.shape[$0] }) else {
                throw shapeError(node, "shapes \(types.map { "\($0.shape)" }.joined(separator: ", ")) differ outside axis \(axis)")
            }
            shape[axis] += t.shape[axis]
        }
        return (first.dataType, shape, axis)
    }
}
