import SPDYTensor

/// `Dropout` at inference: the output is the input and the optional mask output is all true.
/// Opset 12+ takes `ratio` and `training_mode` as optional inputs (before, `ratio` was an
/// attribute). Training mode with a nonzero ratio is random and therefore rejected.
enum DropoutOp: OperatorSemantics {
    static let opType = "Dropout"

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let data = try required(inputs, 0, node)
        if opset >= 12, inputs.count > 2, inputs[2] != nil { _ = try constant(inputs, 2, node) }
        let types = [data.type, ValueType(.bool, data.type.shape)]
        return Array(types.prefix(max(1, min(2, node.outputs.count))))
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let data = try required(inputs, 0, node)
        if opset >= 12, inputs.count > 2, let training = inputs[2], training.doubles.contains(where: { $0 != 0 }) {
            let ratio = inputs.count > 1 ? inputs[1]?.doubles.first ?? 0.5 : 0.5
            if ratio != 0 { throw typeError(node, "training_mode = true with ratio \(ratio) is random; only inference is supported") }
        }
        let outputs = [data, Tensor(shape: data.shape, bools: [Bool](repeating: true, count: data.count))]
        return Array(outputs.prefix(max(1, min(2, node.outputs.count))))
    }
}
