import SPDYTensor

/// `Shape`: the input's dimensions as a 1-D int64 tensor. From opset 15, `start` and `end`
/// (negative counts from the back, both clamped to `[0, r]`) select a slice of them.
enum ShapeOp: OperatorSemantics {
    static let opType = "Shape"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        return [ValueType(.int64, [try selected(node, shape: data.type.shape, opset: opset).count])]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        return [Tensor(int64s: try selected(node, shape: data.shape, opset: opset).map(Int64.init))]
    }

    /// A shape is known as soon as the input's type is: `Shape` of a runtime value folds.
    static func staticOutputs(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [Tensor]? {
        let data = try required(inputs, 0, node)
        return [Tensor(int64s: try selected(node, shape: data.type.shape, opset: opset).map(Int64.init))]
    }

    /// The selected dimensions.
    static func selected(_ node: Node, shape: [Int], opset: Int) throws -> [Int] {
        guard opset >= 15 else { return shape }
        let rank = shape.count
        func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + rank : v, 0), rank) }
        let start = clamp(try node.int("start", default: 0))
        let end = clamp(try node.int("end", default: rank))
        return start < end ? Array(shape[start..<end]) : []
    }
}

/// `Size`: the input's element count as an int64 scalar.
enum SizeOp: OperatorSemantics {
    static let opType = "Size"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        _ = try required(inputs, 0, node)
        return [ValueType(.int64, [])]
    }

    /// The element count is known from the input's type.
    static func staticOutputs(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [Tensor]? {
        let data = try required(inputs, 0, node)
        return [Tensor(shape: [], integers: [Int64(data.type.count)])]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        return [Tensor(shape: [], integers: [Int64(data.count)])]
    }
}
