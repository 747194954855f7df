import Foundation
import SPDYTensor

/// An elementwise operator from float to float whose output has the input's shape; some (Abs,
/// Neg, Relu) also take the integer types ONNX allows for them.
protocol UnaryFloatOperator: OperatorSemantics {
    /// The scalar function, configured from the node's attributes (and constant inputs).
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float
    /// The integer element types ONNX allows at `opset` (default: none, float only).
    static func integerTypes(opset: Int) -> Set<DataType>
    /// The integer form (computed in Int64, then wrapped to the element type's width).
    static var integer: (@Sendable (Int64) -> Int64)? { get }
}

extension UnaryFloatOperator {
    static func integerTypes(opset: Int) -> Set<DataType> { [] }
    static var integer: (@Sendable (Int64) -> Int64)? { nil }

    static func checkType(_ node: Node, _ type: DataType, opset: Int) throws {
        guard type == .float32 || (integer != nil && integerTypes(opset: opset).contains(type)) else {
            let allowed = ["float32"] + integerTypes(opset: opset).map(\.rawValue).sorted()
            throw typeError(node, "expects \(allowed.joined(separator: ", ")) at opset \(opset), got \(type)")
        }
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node)
        try checkType(node, x.type.dataType, opset: opset)
        return [x.type]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        try checkType(node, x.dataType, opset: opset)
        if x.dataType != .float32, let f = integer {
            return [wrappedIntegers(Tensor(shape: x.shape, integers: x.integers.map(f), dataType: x.dataType))]
        }
        return [x.mapFloats(try function(node, inputs: inputs))]
    }
}

/// An integer tensor whose Int64-computed values are wrapped to its element type's width
/// (two's complement, like C and ONNX Runtime).
func wrappedIntegers(_ t: Tensor) -> Tensor {
    let wrap: (Int64) -> Int64
    switch t.dataType {
    case .int32: wrap = { Int64(Int32(truncatingIfNeeded: $0)) }
    case .int8: wrap = { Int64(Int8(truncatingIfNeeded: $0)) }
    case .uint8: wrap = { Int64(UInt8(truncatingIfNeeded: $0)) }
    default: return t
    }
    return Tensor(shape: t.shape, integers: t.integers.map(wrap), dataType: t.dataType)
}

/// The signed integer element types of the IR.
let signedIntegerTypes: Set<DataType> = [.int8, .int32, .int64]

/// `max(0, x)`; signed integers from opset 14.
enum ReluOp: UnaryFloatOperator {
    static let opType = "Relu"
    static func integerTypes(opset: Int) -> Set<DataType> { opset >= 14 ? signedIntegerTypes : [] }
    static let integer: (@Sendable (Int64) -> Int64)? = { Swift.max(0, $0) }
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { max(0, $0) } }
}

/// `1 / (1 + e^-x)`.
enum SigmoidOp: UnaryFloatOperator {
    static let opType = "Sigmoid"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { 1 / (1 + Foundation.exp(-$0)) } }
}

/// Hyperbolic tangent.
enum TanhOp: UnaryFloatOperator {
    static let opType = "Tanh"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { Foundation.tanh($0) } }
}

/// The Gauss error function.
enum ErfOp: UnaryFloatOperator {
    static let opType = "Erf"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { Foundation.erf($0) } }
}

/// `e^x`.
enum ExpOp: UnaryFloatOperator {
    static let opType = "Exp"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { Foundation.exp($0) } }
}

/// Natural logarithm.
enum LogOp: UnaryFloatOperator {
    static let opType = "Log"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { Foundation.log($0) } }
}

/// Square root.
enum SqrtOp: UnaryFloatOperator {
    static let opType = "Sqrt"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { $0.squareRoot() } }
}

/// `1 / x`.
enum ReciprocalOp: UnaryFloatOperator {
    static let opType = "Reciprocal"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { 1 / $0 } }
}

/// `x < 0 ? alpha·x : x`.
enum LeakyReluOp: UnaryFloatOperator {
    static let opType = "LeakyRelu"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float {
        let alpha = try node.float("alpha", default: 0.01)
        return { $0 < 0 ? alpha * $0 : $0 }
    }
}

/// `max(0, min(1, alpha·x + beta))`.
enum HardSigmoidOp: UnaryFloatOperator {
    static let opType = "HardSigmoid"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float {
        let alpha = try node.float("alpha", default: 0.2), beta = try node.float("beta", default: 0.5)
        return { max(0, min(1, alpha * $0 + beta)) }
    }
}

/// `x · HardSigmoid(x)` with alpha 1/6, beta 0.5.
enum HardSwishOp: UnaryFloatOperator {
    static let opType = "HardSwish"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float {
        { $0 * max(0, min(1, $0 / 6 + 0.5)) }
    }
}

/// Absolute value; every integer type too (opset 6+; the most negative value wraps to itself).
enum AbsOp: UnaryFloatOperator {
    static let opType = "Abs"
    static func integerTypes(opset: Int) -> Set<DataType> { signedIntegerTypes.union([.uint8]) }
    static let integer: (@Sendable (Int64) -> Int64)? = { $0 < 0 ? 0 &- $0 : $0 }
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { Swift.abs($0) } }
}

/// Negation; signed integer types too (opset 6+; the most negative value wraps to itself).
enum NegOp: UnaryFloatOperator {
    static let opType = "Neg"
    static func integerTypes(opset: Int) -> Set<DataType> { signedIntegerTypes }
    static let integer: (@Sendable (Int64) -> Int64)? = { 0 &- $0 }
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float { { -$0 } }
}

/// Clamp to [min, max]; bounds are attributes before opset 11 and optional inputs from 11 on.
enum ClipOp: UnaryFloatOperator {
    static let opType = "Clip"
    static func function(_ node: Node, inputs: [Tensor?]) throws -> @Sendable (Float) -> Float {
        var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
        if node.attributes["min"] != nil { lo = try node.float("min") }
        if node.attributes["max"] != nil { hi = try node.float("max") }
        if inputs.count > 1, let t = inputs[1] { lo = Float(t.doubles.first ?? Double(lo)) }
        if inputs.count > 2, let t = inputs[2] { hi = Float(t.doubles.first ?? Double(hi)) }
        let (l, h) = (lo, hi)
        return { min(max($0, l), h) }
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node)
        guard x.type.dataType != .bool else { throw typeError(node, "expects a numeric type, got bool") }
        for i in 1..<max(1, inputs.count) where inputs[i] != nil && inputs[i]?.constant == nil {
            throw GraphError.needsConstant(node: node.name, opType: node.opType, input: node.inputs[i])
        }
        return [x.type]
    }

    /// Float inputs use `function`; integer inputs clamp in their own type.
    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        switch x.dataType {
        case .float32: return [x.mapFloats(try function(node, inputs: inputs))]
        case .bool: throw typeError(node, "expects a numeric type, got bool")
        default:
            for i in 1..<max(1, inputs.count) {
                if let t = inputs[i], t.dataType != x.dataType { throw typeError(node, "bound type \(t.dataType) differs from \(x.dataType)") }
            }
            let lo = inputs.count > 1 ? inputs[1]?.integers.first ?? Int64.min : Int64.min
            let hi = inputs.count > 2 ? inputs[2]?.integers.first ?? Int64.max : Int64.max
            return [Tensor(shape: x.shape, integers: x.integers.map { Swift.min(Swift.max($0, lo), hi) }, dataType: x.dataType)]
        }
    }
}

/// Identity on float and other tensors alike.
enum IdentityOp: OperatorSemantics {
    static let opType = "Identity"
    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        [try required(inputs, 0, node).type]
    }
    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        [try required(inputs, 0, node)]
    }
}
