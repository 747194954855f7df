import SPDYTensor

/// `Reshape` (opset 5+: target shape is input 1; opset 14 adds `allowzero`).
///
/// In the target shape, `-1` (at most once) is inferred from the element count, and `0` copies
/// the input's dimension at that position unless `allowzero = 1`, where it means a real 0.
enum ReshapeOp: OperatorSemantics {
    static let opType = "Reshape"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        let requested = try intValues(try constant(inputs, 1, node), node, "shape")
        return [ValueType(data.type.dataType, try outputShape(node, input: data.type.shape, requested: requested, opset: opset))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        let requested = try intValues(try required(inputs, 1, node), node, "shape")
        return [data.reshaped(try outputShape(node, input: data.shape, requested: requested, opset: opset))]
    }

    /// The output shape for `requested` applied to `input`.
    static func outputShape(_ node: Node, input: [Int], requested: [Int], opset: Int) throws -> [Int] {
        let allowZero = opset >= 14 ? try node.int("allowzero", default: 0) != 0 : false
        var shape = requested
        var inferred: Int? = nil
        for (i, d) in requested.enumerated() {
            switch d {
            case -1:
                guard inferred == nil else { throw shapeError(node, "shape \(requested) has more than one -1") }
                inferred = i
            case 0 where !allowZero:
                guard i < input.count else {
                    throw shapeError(node, "shape \(requested) copies dimension \(i) (0) but the input \(input) has rank \(input.count)")
                }
                shape[i] = input[i]
            case ..<0:
                throw shapeError(node, "shape \(requested) has invalid dimension \(d)")
            default: break
            }
        }
        let total = Tensor.elementCount(input)
        if let i = inferred {
            if allowZero && requested.contains(0) {
                throw shapeError(node, "shape \(requested) has both 0 and -1 with allowzero = 1")
            }
            let known = try checkedProduct(shape.enumerated().filter { $0.offset != i }.map(\.element), node)
            guard known != 0, total % known == 0 else {
                throw shapeError(node, "cannot infer -1 in \(requested) for input \(input) (\(total) elements)")
            }
            shape[i] = total / known
        }
        guard Tensor.elementCount(try checkedShape(shape, node)) == total else {
            throw shapeError(node, "cannot reshape \(input) (\(total) elements) to \(shape)")
        }
        return shape
    }
}

/// `Flatten`: a 2-D view `[prod(shape[..<axis]), prod(shape[axis...])]`; `axis` in `[-r, r]`
/// (negative since opset 11), default 1.
enum FlattenOp: OperatorSemantics {
    static let opType = "Flatten"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        return [ValueType(data.type.dataType, try outputShape(node, input: data.type.shape))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        return [data.reshaped(try outputShape(node, input: data.shape))]
    }

    static func outputShape(_ node: Node, input: [Int]) throws -> [Int] {
        let axis = try normalizedAxis(try node.int("axis", default: 1), rank: input.count, node, extended: true)
        return [Tensor.elementCount(Array(input[..<axis])), Tensor.elementCount(Array(input[axis...]))]
    }
}
