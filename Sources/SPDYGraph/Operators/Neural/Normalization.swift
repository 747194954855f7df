import SPDYTensor

/// ONNX `LayerNormalization` (opset 17): normalises X over the axes `axis…rank−1`
/// (default −1) with `epsilon` (default 1e−5), then scales by `Scale` and adds optional `B`
/// (both unidirectionally broadcast to X). Optional outputs `Mean` and `InvStdDev` have X's
/// shape with the normalised axes set to 1. Computation in float32 (stash_type 1) or wider;
/// other stash types are rejected. Not a default-domain operator before opset 17.
enum LayerNormalizationOp: OperatorSemantics {
    static let opType = "LayerNormalization"

    static func check(_ node: Node, x: ValueType, scale: ValueType, b: ValueType?, opset: Int) throws -> (axis: Int, statShape: [Int]) {
        guard opset >= 17 else {
            throw GraphError.unsupportedOperator(opType: node.opType, domain: node.domain, node: node.name, opset: opset)
        }
        let stash = try node.int("stash_type", default: 1)
        guard stash == 1 else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "stash_type", reason: "only 1 (float32) is supported, got \(stash)")
        }
        try requireFloat(node, x, "X")
        try requireFloat(node, scale, "Scale")
        let rank = x.shape.count
        let axis = try normalizedAxis(node, try node.int("axis", default: -1), rank: rank)
        for (name, t) in [("Scale", scale), ("B", b)] {
            guard let t else { continue }
            try requireFloat(node, t, name)
            guard Broadcast.shape([t.shape, x.shape]) == x.shape else {
                throw shapeError(node, "\(name) \(t.shape) does not broadcast to X \(x.shape)")
            }
        }
        return (axis, Array(x.shape[..<axis]) + [Int](repeating: 1, count: rank - axis))
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node).type, scale = try required(inputs, 1, node).type
        let b = inputs.count > 2 ? inputs[2]?.type : nil
        let (_, stat) = try check(node, x: x, scale: scale, b: b, opset: opset)
        return [x, ValueType(.float32, stat), ValueType(.float32, stat)].prefix(max(1, min(3, node.outputs.count))).map { $0 }
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node), scale = try required(inputs, 1, node)
        let b = inputs.count > 2 ? inputs[2] : nil
        let (axis, stat) = try check(node, x: ValueType(x.dataType, x.shape), scale: ValueType(scale.dataType, scale.shape),
                                     b: b.map { ValueType($0.dataType, $0.shape) }, opset: opset)
        let epsilon = Double(try node.float("epsilon", default: 1e-5))
        let rows = Tensor.elementCount(Array(x.shape[..<axis])), width = Tensor.elementCount(Array(x.shape[axis...]))
        let v = x.floats
        let s = scale.broadcast(to: x.shape).floats
        let bias = b?.broadcast(to: x.shape).floats
        var y = [Float](repeating: 0, count: v.count)
        var means = [Float](repeating: 0, count: rows), invStd = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let range = (r * width)..<((r + 1) * width)
            let mean = range.reduce(0.0) { $0 + Double(v[$1]) } / Double(width)
            let variance = range.reduce(0.0) { $0 + (Double(v[$1]) - mean) * (Double(v[$1]) - mean) } / Double(width)
            let inv = 1 / (variance + epsilon).squareRoot()
            means[r] = Float(mean)
            invStd[r] = Float(inv)
            for i in range {
                y[i] = Float((Double(v[i]) - mean) * inv * Double(s[i]) + (bias.map { Double($0[i]) } ?? 0))
            }
        }
        let all = [Tensor(shape: x.shape, floats: y), Tensor(shape: stat, floats: means), Tensor(shape: stat, floats: invStd)]
        return Array(all.prefix(max(1, min(3, node.outputs.count))))
    }
}

/// ONNX `InstanceNormalization` (opset 6): per sample and channel, normalises X [N, C, D1…]
/// over the spatial positions with `epsilon` (default 1e−5), then `scale[c]·x̂ + B[c]`.
enum InstanceNormalizationOp: OperatorSemantics {
    static let opType = "InstanceNormalization"

    static func check(_ node: Node, _ types: [ValueType]) throws {
        let x = types[0]
        try requireFloat(node, x, "input")
        guard x.shape.count >= 3 else { throw shapeError(node, "input must have rank ≥ 3 (N, C, spatial…), got \(x.shape)") }
        for (i, name) in ["scale", "B"].enumerated() {
            try requireFloat(node, types[i + 1], name)
            guard types[i + 1].shape == [x.shape[1]] else { throw shapeError(node, "\(name) \(types[i + 1].shape) must have shape [\(x.shape[1])]") }
        }
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let types = try (0..<3).map { try required(inputs, $0, node).type }
        try check(node, types)
        return [types[0]]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let ts = try (0..<3).map { try required(inputs, $0, node) }
        try check(node, ts.map { ValueType($0.dataType, $0.shape) })
        let epsilon = Double(try node.float("epsilon", default: 1e-5))
        let x = ts[0], c = x.shape[1], scale = ts[1].floats, bias = ts[2].floats
        let width = Tensor.elementCount(Array(x.shape[2...])), planes = x.shape[0] * c
        let v = x.floats
        var y = [Float](repeating: 0, count: v.count)
        for p in 0..<planes where width > 0 {
            let range = (p * width)..<((p + 1) * width)
            let mean = range.reduce(0.0) { $0 + Double(v[$1]) } / Double(width)
            let variance = range.reduce(0.0) { $0 + (Double(v[$1]) - mean) * (Double(v[$1]) - mean) } / Double(width)
            let inv = 1 / (variance + epsilon).squareRoot()
            for i in range { y[i] = Float((Double(v[i]) - mean) * inv * Double(scale[p % c]) + Double(bias[p % c])) }
        }
        return [Tensor(shape: x.shape, floats: y)]
    }
}
