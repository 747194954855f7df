import SPDYTensor

/// The meaning of one ONNX operator: how its output types follow from its inputs, and a slow,
/// obviously correct evaluation used for constant folding and as the reference twin of the
/// engine's fast kernels.
///
/// Implementations read attributes through `Node`'s throwing accessors and report problems as
/// `GraphError`s naming the node. `inputs` has one entry per node input; nil marks an omitted
/// optional input.
public protocol OperatorSemantics: Sendable {
    /// The ONNX operator type this implements (default domain).
    static var opType: String { get }
    /// Output types; `inputs[i].constant` is set when input i is known before run time.
    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType]
    /// Reference evaluation on concrete tensors.
    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor]
    /// Outputs known from the input *types* alone (e.g. `Shape` of a runtime value), or nil.
    static func staticOutputs(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [Tensor]?
}

extension OperatorSemantics {
    /// By default an operator's outputs depend on its input values.
    static func staticOutputs(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [Tensor]? { nil }
}

extension OperatorSemantics {
    /// The required input `index`, or a `missingInput` error.
    static func required<T>(_ inputs: [T?], _ index: Int, _ node: Node) throws -> T {
        guard index < inputs.count, let value = inputs[index] else {
            throw GraphError.missingInput(node: node.name, opType: node.opType, index: index)
        }
        return value
    }

    /// The constant contents of input `index`, or a `needsConstant` error.
    static func constant(_ inputs: [StaticValue?], _ index: Int, _ node: Node) throws -> Tensor {
        let value = try required(inputs, index, node)
        guard let c = value.constant else {
            throw GraphError.needsConstant(node: node.name, opType: node.opType, input: node.inputs[index])
        }
        return c
    }

    /// A shape error naming this node.
    static func shapeError(_ node: Node, _ reason: String) -> GraphError {
        .shapeMismatch(node: node.name, opType: node.opType, reason: reason)
    }

    /// A type error naming this node.
    static func typeError(_ node: Node, _ reason: String) -> GraphError {
        .typeMismatch(node: node.name, opType: node.opType, reason: reason)
    }
}
