import Foundation
import SPDYTensor

/// Flat input indices grouped by output element for a reduction of `shape` over `axes`
/// (each group in increasing order along the reduced axes), and the output shape with the
/// reduced axes kept as 1.
func reductionGroups(shape: [Int], axes: Set<Int>) -> (keptShape: [Int], groups: [[Int]]) {
    let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    let outStrides = Tensor.strides(kept)
    var groups = [[Int]](repeating: [], count: Tensor.elementCount(kept))
    let count = Tensor.elementCount(shape)
    var index = [Int](repeating: 0, count: shape.count)
    for flat in 0..<count {
        var out = 0
        for d in 0..<shape.count where !axes.contains(d) { out += index[d] * outStrides[d] }
        groups[out].append(flat)
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < shape[d] { break }
            index[d] = 0
            d -= 1
        }
    }
    return (kept, groups)
}

/// The ONNX `Reduce*` operators (opsets 11–18; ReduceMax/ReduceMin 20 adds bool).
///
/// Axes come from the `axes` attribute before `axesInputOpset` (13 for ReduceSum, 18 for the
/// rest) and from the optional second input from then on (it must be constant for inference).
/// No axes reduce everything, unless `noop_with_empty_axes` (input form only) makes the operator
/// the identity. `keepdims` (default 1) keeps reduced axes as size 1. Repeated axes are an error.
protocol ReductionOperator: OperatorSemantics {
    /// The first opset taking axes as an input.
    static var axesInputOpset: Int { get }
    /// Whether integer tensors are accepted (computed in Int64).
    static var acceptsIntegers: Bool { get }
    /// Reduces one group of float values (in Double).
    static func reduce(_ values: [Double]) -> Double
    /// Reduces one group of integer values; only called when `acceptsIntegers`.
    static func reduce(_ values: [Int64]) -> Int64
    /// Whether bool tensors are accepted at `opset` (ReduceMax/ReduceMin from 20).
    static func acceptsBool(opset: Int) -> Bool
    /// Reduces one group of bool values (False < True); only called when `acceptsBool`.
    static func reduce(_ values: [Bool]) -> Bool
}

extension ReductionOperator {
    static var acceptsIntegers: Bool { false }
    static func reduce(_ values: [Int64]) -> Int64 { preconditionFailure("\(opType) has no integer form") }
    static func acceptsBool(opset: Int) -> Bool { false }
    static func reduce(_ values: [Bool]) -> Bool { preconditionFailure("\(opType) has no bool form") }

    /// Axes (normalised, nil = all, empty = identity) from the attribute or the axes tensor.
    static func axes(_ node: Node, rank: Int, axesTensor: Tensor?, axesInputPresent: Bool, opset: Int) throws -> Set<Int>? {
        var list: [Int]
        var noop = false
        if opset >= axesInputOpset {
            if node.attributes["axes"] != nil {
                throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "axes",
                                              reason: "from opset \(axesInputOpset) axes are an input, not an attribute")
            }
            noop = try node.int("noop_with_empty_axes", default: 0) != 0
            if axesInputPresent {
                guard let t = axesTensor else {
                    throw GraphError.needsConstant(node: node.name, opType: node.opType, input: node.inputs[1])
                }
                guard t.dataType == .int64, t.rank <= 1 else {
                    throw typeError(node, "axes must be a 1-D int64 tensor, got \(t.dataType)\(t.shape)")
                }
                list = t.integers.map { Int(clamping: $0) }
            } else {
                list = []
            }
        } else {
            if axesInputPresent {
                throw typeError(node, "before opset \(axesInputOpset) axes are an attribute, not an input")
            }
            list = try node.ints("axes") ?? []
        }
        if list.isEmpty { return noop ? [] : nil }
        var set = Set<Int>()
        for a in list {
            let n = try normalizedAxis(node, a, rank: rank, attribute: "axes")
            guard set.insert(n).inserted else {
                throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "axes", reason: "axis \(a) repeated in \(list)")
            }
        }
        return set
    }

    static func outputShape(_ shape: [Int], axes: Set<Int>?, keepdims: Bool) -> [Int] {
        guard let axes else { return keepdims ? shape.map { _ in 1 } : [] }
        return shape.enumerated().compactMap { axes.contains($0.offset) ? (keepdims ? 1 : nil) : $0.element }
    }

    static func checkType(_ node: Node, _ type: DataType, opset: Int) throws {
        guard type == .float32 || (acceptsIntegers && type.isInteger) || (type == .bool && acceptsBool(opset: opset)) else {
            throw typeError(node, "unsupported element type \(type) at opset \(opset)")
        }
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node).type
        try checkType(node, x.dataType, opset: opset)
        let present = inputs.count > 1 && inputs[1] != nil
        let set = try axes(node, rank: x.shape.count, axesTensor: present ? inputs[1]?.constant : nil,
                           axesInputPresent: present, opset: opset)
        let keep = try node.int("keepdims", default: 1) != 0
        return [ValueType(x.dataType, set == [] ? x.shape : outputShape(x.shape, axes: set, keepdims: keep))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        try checkType(node, x.dataType, opset: opset)
        let present = inputs.count > 1 && inputs[1] != nil
        let set = try axes(node, rank: x.rank, axesTensor: present ? inputs[1] : nil, axesInputPresent: present, opset: opset)
        if set == [] { return [x] }
        let keep = try node.int("keepdims", default: 1) != 0
        let (_, groups) = reductionGroups(shape: x.shape, axes: set ?? Set(0..<x.rank))
        let shape = outputShape(x.shape, axes: set, keepdims: keep)
        if x.dataType == .float32 {
            let v = x.floats
            return [Tensor(shape: shape, floats: groups.map { Float(reduce($0.map { Double(v[$0]) })) })]
        }
        if x.dataType == .bool {
            let v = x.bools
            return [Tensor(shape: shape, bools: groups.map { reduce($0.map { v[$0] }) })]
        }
        let v = x.integers
        return [Tensor(shape: shape, integers: groups.map { reduce($0.map { v[$0] }) }, dataType: x.dataType)]
    }
}

/// `ReduceSum` (axes input from opset 13); integers too.
enum ReduceSumOp: ReductionOperator {
    static let opType = "ReduceSum"
    static let axesInputOpset = 13
    static let acceptsIntegers = true
    static func reduce(_ values: [Double]) -> Double { values.reduce(0, +) }
    static func reduce(_ values: [Int64]) -> Int64 { values.reduce(0, &+) }
}

/// `ReduceMean`; integers divide truncating toward zero. Mean of nothing is NaN (0 for integers).
enum ReduceMeanOp: ReductionOperator {
    static let opType = "ReduceMean"
    static let axesInputOpset = 18
    static let acceptsIntegers = true
    static func reduce(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
    static func reduce(_ values: [Int64]) -> Int64 { values.isEmpty ? 0 : values.reduce(0, &+) / Int64(values.count) }
}

/// `ReduceMax`; empty groups give −∞ (the lowest Int64 for integers, false for bool). Bool
/// (logical or) from opset 20.
enum ReduceMaxOp: ReductionOperator {
    static let opType = "ReduceMax"
    static let axesInputOpset = 18
    static let acceptsIntegers = true
    static func acceptsBool(opset: Int) -> Bool { opset >= 20 }
    static func reduce(_ values: [Bool]) -> Bool { values.contains(true) }
    static func reduce(_ values: [Double]) -> Double {
        values.reduce(-Double.infinity) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
    }
    static func reduce(_ values: [Int64]) -> Int64 { values.max() ?? .min }
}

/// `ReduceMin`; empty groups give +∞ (the largest Int64 for integers, true for bool). Bool
/// (logical and) from opset 20.
enum ReduceMinOp: ReductionOperator {
    static let opType = "ReduceMin"
    static let axesInputOpset = 18
    static let acceptsIntegers = true
    static func acceptsBool(opset: Int) -> Bool { opset >= 20 }
    static func reduce(_ values: [Bool]) -> Bool { !values.contains(false) }
    static func reduce(_ values: [Double]) -> Double {
        values.reduce(Double.infinity) { $0.isNaN || $1.isNaN ? .nan : min($0, $1) }
    }
    static func reduce(_ values: [Int64]) -> Int64 { values.min() ?? .max }
}

/// `ReduceProd`; integers too.
enum ReduceProdOp: ReductionOperator {
    static let opType = "ReduceProd"
    static let axesInputOpset = 18
    static let acceptsIntegers = true
    static func reduce(_ values: [Double]) -> Double { values.reduce(1, *) }
    static func reduce(_ values: [Int64]) -> Int64 { values.reduce(1, &*) }
}

/// `ReduceL1`: Σ|x|.
enum ReduceL1Op: ReductionOperator {
    static let opType = "ReduceL1"
    static let axesInputOpset = 18
    static func reduce(_ values: [Double]) -> Double { values.reduce(0) { $0 + Swift.abs($1) } }
}

/// `ReduceL2`: sqrt(Σx²).
enum ReduceL2Op: ReductionOperator {
    static let opType = "ReduceL2"
    static let axesInputOpset = 18
    static func reduce(_ values: [Double]) -> Double { values.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}

/// `ReduceSumSquare`: Σx².
enum ReduceSumSquareOp: ReductionOperator {
    static let opType = "ReduceSumSquare"
    static let axesInputOpset = 18
    static func reduce(_ values: [Double]) -> Double { values.reduce(0) { $0 + $1 * $1 } }
}

/// `ReduceLogSum`: log Σx.
enum ReduceLogSumOp: ReductionOperator {
    static let opType = "ReduceLogSum"
    static let axesInputOpset = 18
    static func reduce(_ values: [Double]) -> Double { Foundation.log(values.reduce(0, +)) }
}

/// `ReduceLogSumExp`: log Σ exp(x), computed as max + log Σ exp(x − max).
enum ReduceLogSumExpOp: ReductionOperator {
    static let opType = "ReduceLogSumExp"
    static let axesInputOpset = 18
    static func reduce(_ values: [Double]) -> Double {
        let m = values.max() ?? -Double.infinity
        guard m.isFinite else { return Foundation.log(values.reduce(0) { $0 + Foundation.exp($1) }) }
        return m + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - m) })
    }
}
