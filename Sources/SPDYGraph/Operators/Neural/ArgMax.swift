import SPDYTensor

/// ArgMax and ArgMin (opsets 11, 12, 13): int64 indices of the extreme element along `axis`
/// (default 0), `keepdims` (default 1); with `select_last_index` (opset ≥ 12, default 0) the
/// last of equal extremes, else the first. Float and integer inputs; NaN is never selected
/// unless the whole slice is NaN (then index 0).
protocol ArgExtremeOperator: OperatorSemantics {
    /// Whether `candidate` beats `best` strictly.
    static func better(_ candidate: Double, than best: Double) -> Bool
}

extension ArgExtremeOperator {
    static func config(_ node: Node, _ x: ValueType, opset: Int) throws -> (axis: Int, keep: Bool, last: Bool) {
        guard x.dataType == .float32 || x.dataType.isInteger else { throw typeError(node, "unsupported element type \(x.dataType)") }
        let axis = try normalizedAxis(node, try node.int("axis", default: 0), rank: x.shape.count)
        guard x.shape[axis] >= 1 else { throw shapeError(node, "cannot take \(opType) over empty axis \(axis) of \(x.shape)") }
        let last = opset >= 12 ? try node.int("select_last_index", default: 0) != 0 : false
        return (axis, try node.int("keepdims", default: 1) != 0, last)
    }

    static func shape(_ x: [Int], axis: Int, keep: Bool) -> [Int] {
        var s = x
        if keep { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node).type
        let c = try config(node, x, opset: opset)
        return [ValueType(.int64, shape(x.shape, axis: c.axis, keep: c.keep))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        let c = try config(node, ValueType(x.dataType, x.shape), opset: opset)
        let v = x.doubles
        let (_, groups) = reductionGroups(shape: x.shape, axes: [c.axis])
        let result: [Int64] = groups.map { group in
            var bestIndex = 0
            var best = v[group[0]]
            for (i, flat) in group.enumerated().dropFirst() {
                let value = v[flat]
                if best.isNaN && !value.isNaN || better(value, than: best) || (c.last && value == best) {
                    best = value
                    bestIndex = i
                }
            }
            return Int64(bestIndex)
        }
        return [Tensor(shape: shape(x.shape, axis: c.axis, keep: c.keep), integers: result)]
    }
}

/// `ArgMax`.
enum ArgMaxOp: ArgExtremeOperator {
    static let opType = "ArgMax"
    static func better(_ candidate: Double, than best: Double) -> Bool { candidate > best }
}

/// `ArgMin`.
enum ArgMinOp: ArgExtremeOperator {
    static let opType = "ArgMin"
    static func better(_ candidate: Double, than best: Double) -> Bool { candidate < best }
}
