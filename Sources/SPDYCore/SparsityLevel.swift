/// A sparsity level, identified by its index in a ``SparsityGrid`` (index 0 is dense).
///
/// Levels are never identified by formatted sparsity strings: the numeric sparsity of a level
/// is looked up in the grid it belongs to (`grid[level]`).
public struct SparsityLevel: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The index of the level in its grid; 0 is dense.
    public var index: Int

    /// Creates the level with the given grid index.
    public init(_ index: Int) {
        precondition(index >= 0, "a sparsity level index is never negative")
        self.index = index
    }

    /// The dense level (no pruning), index 0 in every grid.
    public static let dense = SparsityLevel(0)

    /// Orders levels by index, i.e. by increasing sparsity.
    public static func < (lhs: SparsityLevel, rhs: SparsityLevel) -> Bool { lhs.index < rhs.index }

    /// `#<index>`, e.g. `#12`.
    public var description: String { "#\(index)" }

    /// Encodes as a bare integer index.
    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(Int.self)
        guard value >= 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "negative sparsity level index \(value)"))
        }
        index = value
    }

    /// Encodes as a bare integer index.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(index)
    }
}
