/// Problems with a graph's structure or its operators. Each case names the node and operator.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    case unsupportedOperator(opType: String, domain: String, node: String, opset: Int)
    case missingAttribute(node: String, opType: String, attribute: String)
    case badAttribute(node: String, opType: String, attribute: String, reason: String)
    case missingInput(node: String, opType: String, index: Int)
    case undefinedValue(node: String, value: String)
    case duplicateDefinition(value: String)
    case cycle(nodes: [String])
    case shapeMismatch(node: String, opType: String, reason: String)
    case typeMismatch(node: String, opType: String, reason: String)
    case needsConstant(node: String, opType: String, input: String)
    case unknownInput(name: String, known: [String])
    case missingInputShape(name: String)

    public var description: String {
        switch self {
        case let .unsupportedOperator(op, domain, node, opset):
            return "unsupported operator \(domain.isEmpty ? "" : domain + ".")\(op) (node '\(node)', opset \(opset))"
        case let .missingAttribute(node, op, attr): return "node '\(node)' (\(op)): missing attribute '\(attr)'"
        case let .badAttribute(node, op, attr, reason): return "node '\(node)' (\(op)): attribute '\(attr)': \(reason)"
        case let .missingInput(node, op, index): return "node '\(node)' (\(op)): missing required input #\(index)"
        case let .undefinedValue(node, value): return "node '\(node)' reads '\(value)', which no node, input or initializer defines"
        case let .duplicateDefinition(value): return "value '\(value)' is defined more than once"
        case let .cycle(nodes): return "the graph has a cycle through nodes \(nodes.prefix(5).joined(separator: ", "))"
        case let .shapeMismatch(node, op, reason): return "node '\(node)' (\(op)): \(reason)"
        case let .typeMismatch(node, op, reason): return "node '\(node)' (\(op)): \(reason)"
        case let .needsConstant(node, op, input): return "node '\(node)' (\(op)): input '\(input)' must be a constant (computable before run time)"
        case let .unknownInput(name, known): return "the model has no input '\(name)' (inputs: \(known.joined(separator: ", ")))"
        case let .missingInputShape(name): return "input '\(name)' has a symbolic dimension: give its concrete shape"
        }
    }
}
