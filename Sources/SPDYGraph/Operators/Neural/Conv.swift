import SPDYTensor

/// ONNX `Conv` (opset 11; unchanged through 18): N-dimensional cross-correlation of X
/// [N, C, D1…] with W [M, C/group, K1…] plus optional bias B [M].
///
/// Attributes: `kernel_shape` (optional, must match W), `strides`, `pads`, `dilations`, `group`,
/// `auto_pad`. Float32 only.
enum ConvOp: OperatorSemantics {
    static let opType = "Conv"

    /// Validated parameters shared by inference and evaluation.
    struct Plan {
        var geometry: WindowGeometry
        var group: Int
        var outputShape: [Int]
    }

    static func plan(_ node: Node, x: ValueType, w: ValueType, b: ValueType?) throws -> Plan {
        try requireFloat(node, x, "X")
        try requireFloat(node, w, "W")
        guard x.shape.count >= 3 else { throw shapeError(node, "X must have rank ≥ 3 (N, C, spatial…), got \(x.shape)") }
        guard w.shape.count == x.shape.count else {
            throw shapeError(node, "W \(w.shape) must have the rank of X \(x.shape)")
        }
        let group = try node.int("group", default: 1)
        guard group >= 1 else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "group", reason: "\(group) must be ≥ 1")
        }
        let c = x.shape[1], m = w.shape[0]
        guard w.shape[1] * group == c else {
            throw shapeError(node, "X has \(c) channels but W \(w.shape) with group \(group) expects \(w.shape[1] * group)")
        }
        guard m % group == 0 else { throw shapeError(node, "\(m) output channels are not divisible by group \(group)") }
        if let b {
            try requireFloat(node, b, "B")
            guard b.shape == [m] else { throw shapeError(node, "B \(b.shape) must have shape [\(m)]") }
        }
        let kernelFromW = Array(w.shape[2...])
        if let k = try node.ints("kernel_shape"), k != kernelFromW {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "kernel_shape",
                                          reason: "\(k) does not match W's spatial dimensions \(kernelFromW)")
        }
        let geometry = try WindowGeometry.resolve(self, node, spatial: Array(x.shape[2...]), kernel: kernelFromW)
        return Plan(geometry: geometry, group: group, outputShape: [x.shape[0], m] + geometry.output)
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node), w = try required(inputs, 1, node)
        let b = inputs.count > 2 ? inputs[2] : nil
        return [ValueType(.float32, try plan(node, x: x.type, w: w.type, b: b?.type).outputShape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node), w = try required(inputs, 1, node)
        let b = inputs.count > 2 ? inputs[2] : nil
        let p = try plan(node, x: ValueType(x.dataType, x.shape), w: ValueType(w.dataType, w.shape),
                         b: b.map { ValueType($0.dataType, $0.shape) })
        let g = p.geometry
        return [ReferenceMath.convolution(input: x, weight: w, bias: b, strides: g.strides, padsBegin: g.padsBegin,
                                          padsEnd: g.padsEnd, dilations: g.dilations, group: p.group)]
    }
}
