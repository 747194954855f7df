import Foundation
import SPDYTensor

/// `Range` (opset 11): `start + i·delta` for `i in 0..<max(ceil((limit − start) / delta), 0)`.
/// The three inputs are scalars of one type (float or integer), which the output takes.
enum RangeOp: OperatorSemantics {
    static let opType = "Range"

    /// A limit on the output length, so a bad model cannot ask for absurd allocations.
    static let maxCount = 1 << 30

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let start = try constant(inputs, 0, node), limit = try constant(inputs, 1, node), delta = try constant(inputs, 2, node)
        return [ValueType(start.dataType, [try count(node, start, limit, delta)])]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let start = try required(inputs, 0, node), limit = try required(inputs, 1, node), delta = try required(inputs, 2, node)
        let n = try count(node, start, limit, delta)
        switch start.storage {
        case .float(let s):
            let d = delta.floats[0]
            return [Tensor(shape: [n], floats: (0..<n).map { s[0] + Float($0) * d })]
        case .integer(let s):
            let d = delta.integers[0]
            return [Tensor(shape: [n], integers: (0..<n).map { s[0] &+ Int64($0) &* d }, dataType: start.dataType)]
        case .bool:
            throw typeError(node, "bool ranges are not defined")
        }
    }

    static func count(_ node: Node, _ start: Tensor, _ limit: Tensor, _ delta: Tensor) throws -> Int {
        guard start.count == 1, limit.count == 1, delta.count == 1 else {
            throw shapeError(node, "start, limit and delta must be scalars, got \(start.shape), \(limit.shape), \(delta.shape)")
        }
        guard start.dataType == limit.dataType, start.dataType == delta.dataType, start.dataType != .bool else {
            throw typeError(node, "start, limit and delta must share one numeric type, got \(start.dataType), \(limit.dataType), \(delta.dataType)")
        }
        let s = start.doubles[0], l = limit.doubles[0], d = delta.doubles[0]
        guard d != 0, d.isFinite, s.isFinite, l.isFinite else { throw shapeError(node, "invalid range \(s) ..< \(l) step \(d)") }
        let n = Foundation.ceil((l - s) / d)
        guard !n.isNaN, n <= Double(maxCount) else { throw shapeError(node, "range \(s) ..< \(l) step \(d) is too long") }
        return n > 0 ? Int(n) : 0
    }
}
