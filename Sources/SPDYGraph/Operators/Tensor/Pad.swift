import SPDYTensor

/// `Pad`: adds `pads = [x1_begin, x2_begin, …, x1_end, x2_end, …]` elements around the input
/// (negative pads crop). Opset 11+: `pads` is input 1, the optional scalar `constant_value`
/// input 2 (default 0 / false), and from opset 18 optional `axes` input 3 says which axes the
/// pads refer to. Before 11: `pads` and `value` attributes. Modes: `constant` (default),
/// `reflect` (mirror without repeating the edge), `edge` (repeat the edge), and `wrap` (opset 19).
enum PadOp: OperatorSemantics {
    static let opType = "Pad"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        let (begins, ends) = try padding(node, rank: data.type.shape.count, inputs: inputs, opset: opset)
        _ = try checkedMode(node, opset: opset)
        return [ValueType(data.type.dataType, try outputShape(node, data.type.shape, begins, ends))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        let (begins, ends) = try padding(node, rank: data.rank, inputs: staticInputs(inputs), opset: opset)
        let shape = try outputShape(node, data.shape, begins, ends)
        let mode = try checkedMode(node, opset: opset)
        let fill = try constantValue(node, data: data, inputs: inputs, opset: opset)
        if mode != "constant" {
            for axis in 0..<data.rank where data.shape[axis] == 0 && (begins[axis] > 0 || ends[axis] > 0) {
                throw shapeError(node, "\(mode) padding needs a nonempty axis \(axis), input is \(data.shape)")
            }
        }
        // Index `data.count` is the fill value, appended after the input's elements.
        let strides = Tensor.strides(data.shape)
        var indices: [Int] = []
        indices.reserveCapacity(Tensor.elementCount(shape))
        try forEachCoordinate(shape) { c in
            var offset = 0
            for axis in 0..<c.count {
                let d = data.shape[axis]
                var i = c[axis] - begins[axis]
                if i < 0 || i >= d {
                    switch mode {
                    case "constant": offset = -1
                    case "edge": i = i < 0 ? 0 : d - 1
                    case "reflect":
                        if d == 1 { i = 0; break }
                        let period = 2 * (d - 1)
                        let m = ((i % period) + period) % period
                        i = m < d ? m : period - m
                    case "wrap": i = ((i % d) + d) % d
                    default:
                        throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "mode",
                                                      reason: "unknown mode '\(mode)'")
                    }
                    if offset < 0 { break }
                }
                offset += i * strides[axis]
            }
            indices.append(offset < 0 ? data.count : offset)
        }
        return [Tensor.joined([data, fill]).gathered(flatIndices: indices, shape: shape)]
    }

    /// The `mode` attribute, validated (`wrap` only exists from opset 19).
    static func checkedMode(_ node: Node, opset: Int) throws -> String {
        let mode = try node.string("mode", default: "constant")
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "mode", reason: "unknown mode '\(mode)'")
        }
        guard mode != "wrap" || opset >= 19 else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "mode",
                                          reason: "'wrap' needs opset 19 or later (the model declares \(opset))")
        }
        return mode
    }

    /// Begin and end pads for every axis.
    static func padding(_ node: Node, rank: Int, inputs: [StaticValue?], opset: Int) throws -> ([Int], [Int]) {
        let pads: [Int]
        var axes = Array(0..<rank)
        if opset >= 11 {
            pads = try intValues(try constant(inputs, 1, node), node, "pads")
            if opset >= 18, let given = try optionalConstantInts(inputs, 3, node, "axes") {
                axes = try normalizedAxes(given, rank: rank, node)
            }
        } else {
            guard let p = try node.ints("pads") else { throw GraphError.missingAttribute(node: node.name, opType: node.opType, attribute: "pads") }
            pads = p
        }
        guard pads.count == 2 * axes.count else {
            throw shapeError(node, "pads \(pads) must have \(2 * axes.count) entries (two per padded axis)")
        }
        var begins = [Int](repeating: 0, count: rank), ends = begins
        for (k, axis) in axes.enumerated() {
            begins[axis] = pads[k]
            ends[axis] = pads[k + axes.count]
        }
        return (begins, ends)
    }

    static func outputShape(_ node: Node, _ input: [Int], _ begins: [Int], _ ends: [Int]) throws -> [Int] {
        let shape = try (0..<input.count).map { try checkedSum([input[$0], begins[$0], ends[$0]], node) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw shapeError(node, "pads crop \(input) below zero: \(shape)") }
        return try checkedShape(shape, node)
    }

    /// The fill value as a one-element tensor of the input's type.
    static func constantValue(_ node: Node, data: Tensor, inputs: [Tensor?], opset: Int) throws -> Tensor {
        if opset >= 11 {
            guard inputs.count > 2, let v = inputs[2] else { return Tensor(zeros: [1], dataType: data.dataType) }
            guard v.count == 1 else { throw shapeError(node, "constant_value must be a scalar, got \(v.shape)") }
            guard v.dataType == data.dataType else { throw typeError(node, "constant_value is \(v.dataType), input is \(data.dataType)") }
            return v.reshaped([1])
        }
        return onnxCast(Tensor(shape: [1], floats: [try node.float("value", default: 0)]), to: data.dataType)
    }
}
