import Foundation
import SPDYTensor

/// Softmax and LogSoftmax share their axis rules:
/// - opsets < 13: X is coerced to 2-D [∏ d<axis, ∏ d≥axis] and normalised per row; default axis 1.
/// - opsets ≥ 13: normalised along the single `axis`; default −1.
protocol SoftmaxFamilyOperator: OperatorSemantics {
    static var logarithmic: Bool { get }
}

extension SoftmaxFamilyOperator {
    /// (outer, axis length, inner) of the normalisation: element (o, a, i) is at (o·n + a)·inner + i.
    static func layout(_ node: Node, _ x: ValueType, opset: Int) throws -> (outer: Int, n: Int, inner: Int) {
        try requireFloat(node, x, "input")
        let rank = x.shape.count
        if opset < 13 {
            let axis = try node.int("axis", default: 1)
            let a = try normalizedAxis(node, axis, rank: rank)
            return (Tensor.elementCount(Array(x.shape.prefix(a))), Tensor.elementCount(Array(x.shape.dropFirst(a))), 1)
        }
        let a = try normalizedAxis(node, try node.int("axis", default: -1), rank: rank)
        return (Tensor.elementCount(Array(x.shape[..<a])), x.shape[a], Tensor.elementCount(Array(x.shape[(a + 1)...])))
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node).type
        _ = try layout(node, x, opset: opset)
        return [x]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        let (outer, n, inner) = try layout(node, ValueType(x.dataType, x.shape), opset: opset)
        let v = x.floats
        var y = [Float](repeating: 0, count: v.count)
        for o in 0..<outer {
            for i in 0..<inner {
                let index = { (a: Int) in (o * n + a) * inner + i }
                var m = -Double.infinity
                for a in 0..<n { m = max(m, Double(v[index(a)])) }
                var sum = 0.0
                for a in 0..<n { sum += Foundation.exp(Double(v[index(a)]) - m) }
                for a in 0..<n {
                    let shifted = Double(v[index(a)]) - m
                    y[index(a)] = Float(logarithmic ? shifted - Foundation.log(sum) : Foundation.exp(shifted) / sum)
                }
            }
        }
        return [Tensor(shape: x.shape, floats: y)]
    }
}

/// ONNX `Softmax` (opsets 11, 13): `exp(x − max) / Σ exp(x − max)`.
enum SoftmaxOp: SoftmaxFamilyOperator {
    static let opType = "Softmax"
    static let logarithmic = false
}

/// ONNX `LogSoftmax` (opsets 11, 13): `x − max − log Σ exp(x − max)`.
enum LogSoftmaxOp: SoftmaxFamilyOperator {
    static let opType = "LogSoftmax"
    static let logarithmic = true
}
