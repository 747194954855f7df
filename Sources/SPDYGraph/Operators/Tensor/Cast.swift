import SPDYTensor

/// ONNX `TensorProto.DataType` codes mapped to our element types.
///
/// `double` (11) is accepted and computed as float32: the engine has no float64 storage, and
/// models cast to double almost only around shape arithmetic. Other codes (float16 = 10,
/// bfloat16, int16, uint16/32/64, string, complex) are reported as unsupported.
func dataType(onnxCode code: Int, _ node: Node, attribute: String) throws -> DataType {
    switch code {
    case 1, 11: return .float32
    case 2: return .uint8
    case 3: return .int8
    case 6: return .int32
    case 7: return .int64
    case 9: return .bool
    default:
        let names = [4: "uint16", 5: "int16", 8: "string", 10: "float16", 12: "uint32", 13: "uint64",
                     14: "complex64", 15: "complex128", 16: "bfloat16"]
        throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: attribute,
                                      reason: "element type \(names[code] ?? "code \(code)") is not supported")
    }
}

/// Converts `tensor` to `type` as ONNX Cast does: float→integer truncates toward zero, anything→bool
/// is "nonzero", integers narrower than 64 bits wrap to their width (two's complement, like C).
func onnxCast(_ tensor: Tensor, to type: DataType) -> Tensor {
    if tensor.dataType == type { return tensor }
    let converted = tensor.cast(to: type)
    guard type.isInteger, type != .int64 else { return converted }
    let wrap: (Int64) -> Int64
    switch type {
    case .int32: wrap = { Int64(Int32(truncatingIfNeeded: $0)) }
    case .int8: wrap = { Int64(Int8(truncatingIfNeeded: $0)) }
    case .uint8: wrap = { Int64(UInt8(truncatingIfNeeded: $0)) }
    default: wrap = { $0 }
    }
    return Tensor(shape: converted.shape, integers: converted.integers.map(wrap), dataType: type)
}

/// `Cast`: converts to the type whose ONNX code is the `to` attribute (required). The opset-19
/// `saturate` attribute only concerns float8 types and is ignored.
enum CastOp: OperatorSemantics {
    static let opType = "Cast"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node)
        return [ValueType(try dataType(onnxCode: try node.int("to"), node, attribute: "to"), x.type.shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        return [onnxCast(x, to: try dataType(onnxCode: try node.int("to"), node, attribute: "to"))]
    }
}

/// `CastLike` (opset 15): converts input 0 to the element type of input 1.
enum CastLikeOp: OperatorSemantics {
    static let opType = "CastLike"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node), like = try required(inputs, 1, node)
        return [ValueType(like.type.dataType, x.type.shape)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node), like = try required(inputs, 1, node)
        return [onnxCast(x, to: like.dataType)]
    }
}
