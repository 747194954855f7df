import SPDYTensor

/// `Transpose`: output axis i is input axis `perm[i]`; `perm` defaults to reversing the axes.
enum TransposeOp: OperatorSemantics {
    static let opType = "Transpose"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        let perm = try permutation(node, rank: data.type.shape.count)
        return [ValueType(data.type.dataType, perm.map { data.type.shape[$0] })]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        let perm = try permutation(node, rank: data.rank)
        let outShape = perm.map { data.shape[$0] }
        let inStrides = Tensor.strides(data.shape)
        let permutedStrides = perm.map { inStrides[$0] }
        var indices: [Int] = []
        indices.reserveCapacity(data.count)
        forEachCoordinate(outShape) { indices.append(flatOffset($0, permutedStrides)) }
        return [data.gathered(flatIndices: indices, shape: outShape)]
    }

    /// The validated permutation.
    static func permutation(_ node: Node, rank: Int) throws -> [Int] {
        let perm = try node.ints("perm") ?? Array((0..<rank).reversed())
        guard perm.count == rank, perm.sorted() == Array(0..<rank) else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "perm",
                                          reason: "\(perm) is not a permutation of 0..<\(rank)")
        }
        return perm
    }
}
