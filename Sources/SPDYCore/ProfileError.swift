/// A profile file that could not be read, or a profile that does not fit a table.
public struct ProfileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One problem, with where it was found.
    public struct Issue: Hashable, Sendable, CustomStringConvertible {
        /// What is wrong.
        public enum Kind: Hashable, Sendable {
            /// A text line that is not `<sparsity> <layer>`.
            case malformedLine(String)
            /// A sparsity that is not a level of the grid.
            case levelNotOnGrid(Double)
            /// A layer listed twice.
            case duplicatedLayer(firstLine: Int?)
            /// A JSON entry whose sparsity differs from its level's.
            case sparsityMismatch(level: SparsityLevel, sparsity: Double)
            /// A table layer the profile does not list.
            case layerMissing
            /// The profile's grid differs from the table's.
            case gridMismatch
            /// An unknown JSON format version.
            case unsupportedFormatVersion(Int)
            /// Undecodable JSON.
            case invalidJSON(String)
        }

        /// The file, if known.
        public var file: String?
        /// The 1-based line, if known.
        public var line: Int?
        /// The layer concerned, if any.
        public var layer: LayerID?
        /// What is wrong.
        public var kind: Kind

        /// Creates an issue.
        public init(file: String? = nil, line: Int? = nil, layer: LayerID? = nil, kind: Kind) {
            self.file = file
            self.line = line
            self.layer = layer
            self.kind = kind
        }

        /// `file:line: layer NAME: explanation`.
        public var description: String {
            var prefix = ""
            if let file { prefix += file + ":" }
            if let line { prefix += "\(line):" }
            if !prefix.isEmpty { prefix += " " }
            if let layer { prefix += "layer \(layer): " }
            switch kind {
            case let .malformedLine(text): return prefix + "'\(text)' is not '<sparsity> <layer>'"
            case let .levelNotOnGrid(value): return prefix + "sparsity \(format4(value)) is not a level of the grid"
            case let .duplicatedLayer(first):
                return prefix + "listed twice" + (first.map { " (first at line \($0))" } ?? "")
            case let .sparsityMismatch(level, sparsity):
                return prefix + "sparsity \(sparsity) does not match level \(level)"
            case .layerMissing: return prefix + "not in the profile"
            case .gridMismatch: return prefix + "the profile's grid differs from the timing table's"
            case let .unsupportedFormatVersion(version):
                return prefix + "profile format version \(version) is not supported (this reader knows "
                    + "version \(Profile.currentFormatVersion))"
            case let .invalidJSON(message): return prefix + "not a valid profile JSON: \(message)"
            }
        }
    }

    /// The problems, at least one.
    public var issues: [Issue]

    /// Creates the error.
    public init(issues: [Issue]) { self.issues = issues }

    /// One issue per line.
    public var description: String {
        (["invalid profile:"] + issues.map { "  " + $0.description }).joined(separator: "\n")
    }
}
