import SPDYTensor

/// The `axes` of Squeeze/Unsqueeze: an attribute before opset 13, input 1 from opset 13 on.
/// Returns nil when absent. Using the wrong form for the opset is reported, not guessed at.
private func squeezeAxes<Op: OperatorSemantics>(_ op: Op.Type, _ node: Node, inputs: [StaticValue?], opset: Int) throws -> [Int]? {
    if opset >= 13 {
        if node.attributes["axes"] != nil {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "axes",
                                          reason: "is an input (not an attribute) from opset 13 on; this model declares opset \(opset)")
        }
        return try Op.optionalConstantInts(inputs, 1, node, "axes")
    }
    if inputs.count > 1, inputs[1] != nil {
        throw GraphError.shapeMismatch(node: node.name, opType: node.opType,
                                       reason: "axes is an attribute (not an input) before opset 13; this model declares opset \(opset)")
    }
    return try node.ints("axes")
}

/// `Squeeze`: removes the size-1 dimensions listed in `axes` (all size-1 dimensions when
/// `axes` is absent). Axes: attribute before opset 13, optional input 1 from 13.
enum SqueezeOp: OperatorSemantics {
    static let opType = "Squeeze"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        let axes = try squeezeAxes(Self.self, node, inputs: inputs, opset: opset)
        return [ValueType(data.type.dataType, try outputShape(node, input: data.type.shape, axes: axes))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        let axes = try squeezeAxes(Self.self, node, inputs: staticInputs(inputs), opset: opset)
        return [data.reshaped(try outputShape(node, input: data.shape, axes: axes))]
    }

    static func outputShape(_ node: Node, input: [Int], axes: [Int]?) throws -> [Int] {
        guard let axes else { return input.filter { $0 != 1 } }
        let removed = try normalizedAxes(axes, rank: input.count, node)
        for a in removed where input[a] != 1 {
            throw shapeError(node, "cannot squeeze axis \(a) of \(input): its size is \(input[a]), not 1")
        }
        return input.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }
}

/// `Unsqueeze`: inserts size-1 dimensions at `axes`, which index the output (rank r + len(axes)).
/// Axes: required attribute before opset 13, required input 1 from 13.
enum UnsqueezeOp: OperatorSemantics {
    static let opType = "Unsqueeze"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        if opset >= 13 { _ = try constant(inputs, 1, node) }
        let axes = try squeezeAxes(Self.self, node, inputs: inputs, opset: opset)
        return [ValueType(data.type.dataType, try outputShape(node, input: data.type.shape, axes: axes))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        if opset >= 13 { _ = try required(inputs, 1, node) }
        let axes = try squeezeAxes(Self.self, node, inputs: staticInputs(inputs), opset: opset)
        return [data.reshaped(try outputShape(node, input: data.shape, axes: axes))]
    }

    static func outputShape(_ node: Node, input: [Int], axes: [Int]?) throws -> [Int] {
        guard let axes else { throw GraphError.missingAttribute(node: node.name, opType: node.opType, attribute: "axes") }
        let rank = input.count + axes.count
        let inserted = Set(try normalizedAxes(axes, rank: rank, node))
        var remaining = input.makeIterator()
        return (0..<rank).map { inserted.contains($0) ? 1 : remaining.next()! }
    }
}
