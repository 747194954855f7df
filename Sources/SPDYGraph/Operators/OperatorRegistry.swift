/// Every operator the project understands, by ONNX type (default domain).
///
/// The lists live beside the operators they name (`elementwiseOperators`, `tensorOperators`,
/// `neuralOperators`) so each family is edited in one place.
public enum OperatorRegistry {
    /// All supported operator semantics by op type.
    public static let all: [String: any OperatorSemantics.Type] = {
        var map: [String: any OperatorSemantics.Type] = [:]
        for op in elementwiseOperators + tensorOperators + neuralOperators {
            precondition(map[op.opType] == nil, "operator \(op.opType) registered twice")
            map[op.opType] = op
        }
        return map
    }()

    /// The semantics of `node`, or an `unsupportedOperator` error naming type, node and opset.
    public static func semantics(for node: Node, opset: Int) throws -> any OperatorSemantics.Type {
        guard node.domain.isEmpty || node.domain == "ai.onnx", let op = all[node.opType] else {
            throw GraphError.unsupportedOperator(opType: node.opType, domain: node.domain, node: node.name, opset: opset)
        }
        return op
    }

    /// The sorted list of supported op types.
    public static var supportedTypes: [String] { all.keys.sorted() }
}
