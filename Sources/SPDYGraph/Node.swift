import SPDYTensor

/// One operator application in a graph. Inputs and outputs refer to values by name; an empty
/// name marks an omitted optional input, as in ONNX.
public struct Node: Sendable, Equatable {
    /// The node's name (unique after import; generated when the model has none).
    public var name: String
    /// The operator type, e.g. `Conv`.
    public var opType: String
    /// The operator domain; "" is the default ONNX domain.
    public var domain: String
    /// Input value names, in operator order; "" for an omitted optional input.
    public var inputs: [String]
    /// Output value names.
    public var outputs: [String]
    /// Attributes by name.
    public var attributes: [String: Attribute]

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// The input at `index`, or nil if absent or omitted.
    public func input(_ index: Int) -> String? {
        index < inputs.count && !inputs[index].isEmpty ? inputs[index] : nil
    }

    // MARK: Typed attribute access (throwing: attributes come from untrusted files)

    /// An int attribute, or `defaultValue` when absent.
    public func int(_ key: String, default defaultValue: Int? = nil) throws -> Int {
        switch attributes[key] {
        case .int(let v)?: return v
        case nil:
            if let d = defaultValue { return d }
            throw GraphError.missingAttribute(node: name, opType: opType, attribute: key)
        case let other?: throw GraphError.badAttribute(node: name, opType: opType, attribute: key, reason: "expected int, found \(other.kind)")
        }
    }

    /// A float attribute, or `defaultValue` when absent.
    public func float(_ key: String, default defaultValue: Float? = nil) throws -> Float {
        switch attributes[key] {
        case .float(let v)?: return v
        case .int(let v)?: return Float(v)
        case nil:
            if let d = defaultValue { return d }
            throw GraphError.missingAttribute(node: name, opType: opType, attribute: key)
        case let other?: throw GraphError.badAttribute(node: name, opType: opType, attribute: key, reason: "expected float, found \(other.kind)")
        }
    }

    /// A string attribute, or `defaultValue` when absent.
    public func string(_ key: String, default defaultValue: String? = nil) throws -> String {
        switch attributes[key] {
        case .string(let v)?: return v
        case nil:
            if let d = defaultValue { return d }
            throw GraphError.missingAttribute(node: name, opType: opType, attribute: key)
        case let other?: throw GraphError.badAttribute(node: name, opType: opType, attribute: key, reason: "expected string, found \(other.kind)")
        }
    }

    /// An ints attribute, or `defaultValue` when absent (nil default → nil when absent).
    public func ints(_ key: String, default defaultValue: [Int]? = nil) throws -> [Int]? {
        switch attributes[key] {
        case .ints(let v)?: return v
        case .int(let v)?: return [v]
        case nil: return defaultValue
        case let other?: throw GraphError.badAttribute(node: name, opType: opType, attribute: key, reason: "expected ints, found \(other.kind)")
        }
    }

    /// A floats attribute, or nil when absent.
    public func floats(_ key: String) throws -> [Float]? {
        switch attributes[key] {
        case .floats(let v)?: return v
        case .float(let v)?: return [v]
        case nil: return nil
        case let other?: throw GraphError.badAttribute(node: name, opType: opType, attribute: key, reason: "expected floats, found \(other.kind)")
        }
    }

    /// A tensor attribute, or nil when absent.
    public func tensor(_ key: String) throws -> Tensor? {
        switch attributes[key] {
        case .tensor(let v)?: return v
        case nil: return nil
        case let other?: throw GraphError.badAttribute(node: name, opType: opType, attribute: key, reason: "expected tensor, found \(other.kind)")
        }
    }
}
