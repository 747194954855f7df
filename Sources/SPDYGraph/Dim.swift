import SPDYTensor

/// One dimension of a declared input/output shape: a fixed size or a named symbol (e.g. `batch`).
public enum Dim: Sendable, Hashable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)

    /// The fixed size, or nil for a symbol.
    public var value: Int? {
        if case .fixed(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let v): return String(v)
        case .symbolic(let s): return s.isEmpty ? "?" : s
        }
    }
}

/// A named value's declared type: element type and (possibly symbolic) shape.
public struct ValueInfo: Sendable, Hashable {
    /// The value's name, unique in its graph.
    public var name: String
    /// The element type.
    public var dataType: DataType
    /// The declared shape; nil when the model does not declare it.
    public var shape: [Dim]?

    public init(name: String, dataType: DataType, shape: [Dim]?) {
        self.name = name
        self.dataType = dataType
        self.shape = shape
    }
}

