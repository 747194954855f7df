import SPDYTensor

/// ONNX `Gemm` (opsets 11, 13): `Y = alpha · A' · B' + beta · C`, A' = transA ? Aᵀ : A,
/// B' = transB ? Bᵀ : B, A and B 2-D, optional C unidirectionally broadcast to [M, N].
enum GemmOp: OperatorSemantics {
    static let opType = "Gemm"

    static func outputShape(_ node: Node, a: ValueType, b: ValueType, c: ValueType?) throws -> [Int] {
        try requireFloat(node, a, "A")
        try requireFloat(node, b, "B")
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw shapeError(node, "A and B must be 2-D, got \(a.shape) and \(b.shape)")
        }
        let transA = try node.int("transA", default: 0) != 0, transB = try node.int("transB", default: 0) != 0
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        guard k == kb else {
            throw shapeError(node, "inner dimensions differ: A\(transA ? "ᵀ" : "") \(a.shape), B\(transB ? "ᵀ" : "") \(b.shape)")
        }
        if let c {
            try requireFloat(node, c, "C")
            guard c.shape.count <= 2, Broadcast.shape([c.shape, [m, n]]) == [m, n] else {
                throw shapeError(node, "C \(c.shape) does not broadcast to [\(m), \(n)]")
            }
        }
        return [m, n]
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let a = try required(inputs, 0, node), b = try required(inputs, 1, node)
        let c = inputs.count > 2 ? inputs[2] : nil
        return [ValueType(.float32, try outputShape(node, a: a.type, b: b.type, c: c?.type))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let a = try required(inputs, 0, node), b = try required(inputs, 1, node)
        let c = inputs.count > 2 ? inputs[2] : nil
        _ = try outputShape(node, a: ValueType(a.dataType, a.shape), b: ValueType(b.dataType, b.shape),
                            c: c.map { ValueType($0.dataType, $0.shape) })
        return [ReferenceMath.gemm(a, b, c, alpha: try node.float("alpha", default: 1), beta: try node.float("beta", default: 1),
                                   transA: try node.int("transA", default: 0) != 0, transB: try node.int("transB", default: 0) != 0)]
    }
}

/// ONNX `MatMul` (opsets 9, 13): NumPy `matmul` — a 1-D operand is promoted (a row for A, a
/// column for B) and the promoted axis removed; leading batch dimensions broadcast. Float32 only.
enum MatMulOp: OperatorSemantics {
    static let opType = "MatMul"

    static func outputShape(_ node: Node, a: ValueType, b: ValueType) throws -> [Int] {
        try requireFloat(node, a, "A")
        try requireFloat(node, b, "B")
        guard let shape = ReferenceMath.matmulShape(a.shape, b.shape) else {
            throw shapeError(node, "shapes \(a.shape) and \(b.shape) are not matmul-compatible")
        }
        return shape
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let a = try required(inputs, 0, node), b = try required(inputs, 1, node)
        return [ValueType(.float32, try outputShape(node, a: a.type, b: b.type))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let a = try required(inputs, 0, node), b = try required(inputs, 1, node)
        _ = try outputShape(node, a: ValueType(a.dataType, a.shape), b: ValueType(b.dataType, b.shape))
        return [ReferenceMath.matmul(a, b)]
    }
}
