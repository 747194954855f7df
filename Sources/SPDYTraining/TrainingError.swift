import SPDYGraph

/// Problems building or running a training program; each case names what it concerns.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// An operator the executor cannot run or differentiate.
    case unsupportedOperator(node: String, opType: String, opset: Int, reason: String)
    /// A supported operator with attributes or shapes the executor does not handle.
    case unsupportedConfiguration(node: String, opType: String, opset: Int, reason: String)
    /// A feed is missing, has the wrong shape or element type.
    case badFeed(name: String, reason: String)
    /// A name that is not a value of the graph (or not one the pass kept).
    case unknownValue(name: String, reason: String)
    /// A gradient seed whose shape differs from its value's.
    case seedShape(name: String, expected: [Int], got: [Int])
    /// A backward pass on a forward pass that was not made for training, or ran twice.
    case passNotDifferentiable(reason: String)
    /// A parameter, mask or optimiser state that does not match the model.
    case parameterMismatch(name: String, reason: String)
    /// A checkpoint or state file that cannot be read.
    case badState(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedOperator(node, op, opset, reason):
            return "node '\(node)' (\(op), opset \(opset)): \(reason)"
        case let .unsupportedConfiguration(node, op, opset, reason):
            return "node '\(node)' (\(op), opset \(opset)): \(reason)"
        case let .badFeed(name, reason): return "input '\(name)': \(reason)"
        case let .unknownValue(name, reason): return "value '\(name)': \(reason)"
        case let .seedShape(name, expected, got): return "gradient seed for '\(name)' has shape \(got), the value has \(expected)"
        case let .passNotDifferentiable(reason): return "cannot run backward: \(reason)"
        case let .parameterMismatch(name, reason): return "parameter '\(name)': \(reason)"
        case let .badState(path, reason): return "\(path): \(reason)"
        }
    }
}
