import Foundation
import SPDYTensor

/// Shape of a broadcast between the node's first two inputs, or a shape error.
func broadcastShape(_ node: Node, _ shapes: [[Int]]) throws -> [Int] {
    guard let out = Broadcast.shape(shapes) else {
        throw GraphError.shapeMismatch(node: node.name, opType: node.opType,
                                       reason: "shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not broadcast")
    }
    return out
}

/// An arithmetic operator on two tensors of one type, broadcast.
protocol BinaryArithmeticOperator: OperatorSemantics {
    static func float(_ a: Float, _ b: Float) -> Float
    /// Integer form; nil when the operator is float-only.
    static var integer: (@Sendable (Int64, Int64) -> Int64)? { get }
}

extension BinaryArithmeticOperator {
    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let a = try required(inputs, 0, node), b = try required(inputs, 1, node)
        guard a.type.dataType == b.type.dataType || opType == "Pow" else {
            throw typeError(node, "input types differ: \(a.type.dataType) and \(b.type.dataType)")
        }
        guard a.type.dataType == .float32 || (a.type.dataType.isInteger && integer != nil) else {
            throw typeError(node, "unsupported element type \(a.type.dataType)")
        }
        return [ValueType(a.type.dataType, try broadcastShape(node, [a.type.shape, b.type.shape]))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let a = try required(inputs, 0, node), b = try required(inputs, 1, node)
        _ = try broadcastShape(node, [a.shape, b.shape])
        guard a.dataType == b.dataType || (a.dataType == .float32 && b.dataType != .bool) else {
            throw typeError(node, "input types differ: \(a.dataType) and \(b.dataType)")
        }
        if a.dataType == .float32 {
            return [Tensor.broadcastFloats(a, b.dataType == .float32 ? b : b.cast(to: .float32), float)]
        }
        guard let f = integer else { throw typeError(node, "unsupported element type \(a.dataType)") }
        return [Tensor.broadcastIntegers(a, b, f)]
    }
}

/// `a + b`.
enum AddOp: BinaryArithmeticOperator {
    static let opType = "Add"
    static func float(_ a: Float, _ b: Float) -> Float { a + b }
    static let integer: (@Sendable (Int64, Int64) -> Int64)? = { $0 &+ $1 }
}

/// `a − b`.
enum SubOp: BinaryArithmeticOperator {
    static let opType = "Sub"
    static func float(_ a: Float, _ b: Float) -> Float { a - b }
    static let integer: (@Sendable (Int64, Int64) -> Int64)? = { $0 &- $1 }
}

/// `a · b`.
enum MulOp: BinaryArithmeticOperator {
    static let opType = "Mul"
    static func float(_ a: Float, _ b: Float) -> Float { a * b }
    static let integer: (@Sendable (Int64, Int64) -> Int64)? = { $0 &* $1 }
}

/// `a / b` (integer division truncates toward zero; division by zero gives 0).
enum DivOp: BinaryArithmeticOperator {
    static let opType = "Div"
    static func float(_ a: Float, _ b: Float) -> Float { a / b }
    static let integer: (@Sendable (Int64, Int64) -> Int64)? = { $1 == 0 ? 0 : $0.dividedReportingOverflow(by: $1).partialValue }
}

/// `a ^ b` (float base; exponent of any numeric type).
enum PowOp: BinaryArithmeticOperator {
    static let opType = "Pow"
    static func float(_ a: Float, _ b: Float) -> Float {
        b == 2 ? a * a : b == 0.5 ? a.squareRoot() : Foundation.pow(a, b)
    }
    static let integer: (@Sendable (Int64, Int64) -> Int64)? = nil
}

/// Comparison operators producing bool.
protocol ComparisonOperator: OperatorSemantics {
    static func compare(_ a: Double, _ b: Double) -> Bool
}

extension ComparisonOperator {
    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let a = try required(inputs, 0, node), b = try required(inputs, 1, node)
        return [ValueType(.bool, try broadcastShape(node, [a.type.shape, b.type.shape]))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let a = try required(inputs, 0, node), b = try required(inputs, 1, node)
        _ = try broadcastShape(node, [a.shape, b.shape])
        return [Tensor.broadcastCompare(a, b, compare)]
    }
}

/// `a == b`.
enum EqualOp: ComparisonOperator {
    static let opType = "Equal"
    static func compare(_ a: Double, _ b: Double) -> Bool { a == b }
}

/// `a < b`.
enum LessOp: ComparisonOperator {
    static let opType = "Less"
    static func compare(_ a: Double, _ b: Double) -> Bool { a < b }
}

/// `a > b`.
enum GreaterOp: ComparisonOperator {
    static let opType = "Greater"
    static func compare(_ a: Double, _ b: Double) -> Bool { a > b }
}

/// `a <= b`.
enum LessOrEqualOp: ComparisonOperator {
    static let opType = "LessOrEqual"
    static func compare(_ a: Double, _ b: Double) -> Bool { a <= b }
}

/// `a >= b`.
enum GreaterOrEqualOp: ComparisonOperator {
    static let opType = "GreaterOrEqual"
    static func compare(_ a: Double, _ b: Double) -> Bool { a >= b }
}

/// Logical and of bool tensors.
enum AndOp: ComparisonOperator {
    static let opType = "And"
    static func compare(_ a: Double, _ b: Double) -> Bool { a != 0 && b != 0 }
}

/// Logical or of bool tensors.
enum OrOp: ComparisonOperator {
    static let opType = "Or"
    static func compare(_ a: Double, _ b: Double) -> Bool { a != 0 || b != 0 }
}

/// Logical not.
enum NotOp: OperatorSemantics {
    static let opType = "Not"
    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node)
        guard x.type.dataType == .bool else { throw typeError(node, "expects bool, got \(x.type.dataType)") }
        return [x.type]
    }
    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        guard x.dataType == .bool else { throw typeError(node, "expects bool, got \(x.dataType)") }
        return [Tensor(shape: x.shape, bools: x.bools.map { !$0 })]
    }
}

/// `condition ? x : y`, broadcast over all three.
enum WhereOp: OperatorSemantics {
    static let opType = "Where"
    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let c = try required(inputs, 0, node), x = try required(inputs, 1, node), y = try required(inputs, 2, node)
        guard c.type.dataType == .bool else { throw typeError(node, "condition must be bool, got \(c.type.dataType)") }
        guard x.type.dataType == y.type.dataType else { throw typeError(node, "branches differ: \(x.type.dataType) and \(y.type.dataType)") }
        return [ValueType(x.type.dataType, try broadcastShape(node, [c.type.shape, x.type.shape, y.type.shape]))]
    }
    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let c = try required(inputs, 0, node), x = try required(inputs, 1, node), y = try required(inputs, 2, node)
        let out = try broadcastShape(node, [c.shape, x.shape, y.shape])
        let cond = c.broadcast(to: out).bools
        let ix = Broadcast.sourceIndices(from: x.shape, to: out), iy = Broadcast.sourceIndices(from: y.shape, to: out)
        let picked = (0..<cond.count).map { cond[$0] ? ix[$0] : -1 - iy[$0] }
        switch (x.storage, y.storage) {
        case let (.float(a), .float(b)): return [Tensor(shape: out, floats: picked.map { $0 >= 0 ? a[$0] : b[-1 - $0] })]
        case let (.integer(a), .integer(b)): return [Tensor(shape: out, integers: picked.map { $0 >= 0 ? a[$0] : b[-1 - $0] }, dataType: x.dataType)]
        case let (.bool(a), .bool(b)): return [Tensor(shape: out, bools: picked.map { $0 >= 0 ? a[$0] : b[-1 - $0] })]
        default: throw typeError(node, "branches differ")
        }
    }
}

/// Elementwise maximum, minimum or sum over any number of inputs of one numeric type.
protocol VariadicFloatOperator: OperatorSemantics {
    static func combine(_ a: Float, _ b: Float) -> Float
    static func combine(_ a: Int64, _ b: Int64) -> Int64
}

extension VariadicFloatOperator {
    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let present = inputs.compactMap { $0 }
        guard let first = present.first else { throw GraphError.missingInput(node: node.name, opType: node.opType, index: 0) }
        guard first.type.dataType != .bool, present.allSatisfy({ $0.type.dataType == first.type.dataType }) else {
            throw typeError(node, "expects numeric inputs of one type")
        }
        return [ValueType(first.type.dataType, try broadcastShape(node, present.map(\.type.shape)))]
    }
    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let present = inputs.compactMap { $0 }
        guard var acc = present.first else { throw GraphError.missingInput(node: node.name, opType: node.opType, index: 0) }
        guard acc.dataType != .bool, present.allSatisfy({ $0.dataType == acc.dataType }) else {
            throw typeError(node, "expects numeric inputs of one type")
        }
        _ = try broadcastShape(node, present.map(\.shape))
        for t in present.dropFirst() {
            acc = acc.dataType == .float32 ? Tensor.broadcastFloats(acc, t, combine) : Tensor.broadcastIntegers(acc, t, combine)
        }
        return [acc]
    }
}

/// Elementwise maximum.
enum MaxOp: VariadicFloatOperator {
    static let opType = "Max"
    static func combine(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) }
    static func combine(_ a: Int64, _ b: Int64) -> Int64 { Swift.max(a, b) }
}

/// Elementwise minimum.
enum MinOp: VariadicFloatOperator {
    static let opType = "Min"
    static func combine(_ a: Float, _ b: Float) -> Float { Swift.min(a, b) }
    static func combine(_ a: Int64, _ b: Int64) -> Int64 { Swift.min(a, b) }
}

/// Elementwise sum of any number of inputs.
enum SumOp: VariadicFloatOperator {
    static let opType = "Sum"
    static func combine(_ a: Float, _ b: Float) -> Float { a + b }
    static func combine(_ a: Int64, _ b: Int64) -> Int64 { a &+ b }
}

/// The elementwise family, registered in `OperatorRegistry`.
let elementwiseOperators: [any OperatorSemantics.Type] = [
    ReluOp.self, SigmoidOp.self, TanhOp.self, ErfOp.self, ExpOp.self, LogOp.self, SqrtOp.self,
    ReciprocalOp.self, LeakyReluOp.self, HardSigmoidOp.self, HardSwishOp.self, AbsOp.self, NegOp.self,
    ClipOp.self, IdentityOp.self,
    AddOp.self, SubOp.self, MulOp.self, DivOp.self, PowOp.self,
    EqualOp.self, LessOp.self, GreaterOp.self, LessOrEqualOp.self, GreaterOrEqualOp.self,
    AndOp.self, OrOp.self, NotOp.self, WhereOp.self, MaxOp.self, MinOp.self, SumOp.self,
]
