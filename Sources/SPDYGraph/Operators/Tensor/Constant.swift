import SPDYTensor

/// `Constant`: a tensor given by exactly one attribute: `value` (tensor), or from opset 12
/// `value_float` (float32 scalar), `value_floats` (1-D float32), `value_int` (int64 scalar),
/// `value_ints` (1-D int64). String and sparse values are unsupported.
enum ConstantOp: OperatorSemantics {
    static let opType = "Constant"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let t = try value(node)
        return [ValueType(t.dataType, t.shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        [try value(node)]
    }

    static func value(_ node: Node) throws -> Tensor {
        let known = ["value", "value_float", "value_floats", "value_int", "value_ints",
                     "value_string", "value_strings", "sparse_value"]
        let given = known.filter { node.attributes[$0] != nil }
        guard given.count == 1, let key = given.first else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "value",
                                          reason: given.isEmpty ? "no value attribute" : "several value attributes: \(given.joined(separator: ", "))")
        }
        switch key {
        case "value": return try node.tensor("value")!
        case "value_float": return Tensor(scalar: try node.float("value_float"))
        case "value_floats":
            let v = try node.floats("value_floats") ?? []
            return Tensor(shape: [v.count], floats: v)
        case "value_int": return Tensor(shape: [], integers: [Int64(try node.int("value_int"))])
        case "value_ints": return Tensor(int64s: (try node.ints("value_ints") ?? []).map(Int64.init))
        default:
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: key,
                                          reason: "string and sparse constants are not supported")
        }
    }
}

/// `ConstantOfShape`: a tensor of the shape given by input 0 (1-D int64, all ≥ 0; empty means a
/// scalar) filled with the one-element `value` attribute (default float32 0), of its type.
enum ConstantOfShapeOp: OperatorSemantics {
    static let opType = "ConstantOfShape"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let shape = try outputShape(node, try constant(inputs, 0, node))
        return [ValueType(try fill(node).dataType, shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let shape = try outputShape(node, try required(inputs, 0, node))
        let value = try fill(node)
        return [value.gathered(flatIndices: [Int](repeating: 0, count: Tensor.elementCount(shape)), shape: shape)]
    }

    static func outputShape(_ node: Node, _ input: Tensor) throws -> [Int] {
        guard input.rank == 1 else { throw shapeError(node, "the shape input must be 1-D, got \(input.shape)") }
        return try checkedShape(try intValues(input, node, "shape"), node)
    }

    static func fill(_ node: Node) throws -> Tensor {
        guard let v = try node.tensor("value") else { return Tensor(scalar: 0) }
        guard v.count == 1 else {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "value",
                                          reason: "must hold one element, holds \(v.count)")
        }
        return v
    }
}
