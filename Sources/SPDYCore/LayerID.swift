/// A prunable layer, identified by its stable, fully qualified name (e.g. `layer1.0.conv1`).
public struct LayerID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The layer's name as it appears in the model and in timing tables.
    public var name: String

    /// Creates a layer identifier from its name.
    public init(_ name: String) { self.name = name }

    /// Creates a layer identifier from a string literal.
    public init(stringLiteral value: String) { self.name = value }

    /// Orders identifiers by name.
    public static func < (lhs: LayerID, rhs: LayerID) -> Bool { lhs.name < rhs.name }

    /// The layer's name.
    public var description: String { name }

    /// Decodes from a bare string.
    public init(from decoder: any Decoder) throws {
        name = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes as a bare string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
