/// One problem found in a timing table, with where it was found.
public struct TimingTableIssue: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Hashable, Sendable {
        /// A header keyword (`base`, `prunable`) is missing; `found` is the line read instead.
        case missingHeader(expected: String, found: String?)
        /// A value that should be a finite number is not.
        case malformedNumber(String)
        /// A line that is neither a layer name nor `<time> <sparsity>`.
        case unexpectedLine(String)
        /// A level line appears before the first layer name.
        case levelOutsideLayer
        /// The same layer name appears twice; `firstLine` is where it was first defined.
        case duplicatedLayer(firstLine: Int?)
        /// A layer block without any level lines.
        case emptyLayer
        /// A level appears twice in one layer; `firstLine` is its first occurrence.
        case duplicatedLevel(SparsityLevel, sparsity: Double, firstLine: Int?)
        /// Levels of the grid that a layer does not list.
        case missingLevels([SparsityLevel], sparsities: [Double])
        /// The dense level is missing (never repairable: dense must stay available).
        case missingDense
        /// A sparsity that is not a level of the table's grid.
        case levelNotOnGrid(sparsity: Double, grid: SparsityGrid)
        /// A time that is zero, negative or not finite.
        case nonPositiveTime(Double)
        /// A per-layer level list whose length differs from the grid's level count (JSON).
        case levelCountMismatch(found: Int, expected: Int)
        /// The declared prunable sum differs from the sum of the layers' dense times by more than
        /// the rounding of the printed times explains.
        case prunableSumMismatch(declared: Double, computed: Double, tolerance: Double)
        /// `base` is not a positive finite time.
        case invalidBase(Double)
        /// The overhead (base − prunable) is negative or not finite.
        case invalidOverhead(Double)
        /// The table lists no layers.
        case noLayers
        /// The JSON file declares a format version this reader does not know.
        case unsupportedFormatVersion(Int)
        /// The JSON file could not be decoded.
        case invalidJSON(String)
        /// The file is not UTF-8 text.
        case notText
    }

    /// The file the problem was found in, if known.
    public var file: String?
    /// The 1-based line number, if known.
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
        return prefix + kind.explanation
    }
}

extension TimingTableIssue.Kind {
    /// A sentence explaining the problem.
    var explanation: String {
        switch self {
        case let .missingHeader(expected, found):
            return "expected the header line '\(expected)', found " + (found.map { "'\($0)'" } ?? "end of file")
        case let .malformedNumber(text):
            return "'\(text)' is not a finite number"
        case let .unexpectedLine(text):
            return "unexpected line '\(text)' (expected a layer name or '<time> <sparsity>')"
        case .levelOutsideLayer:
            return "a '<time> <sparsity>' line before the first layer name"
        case let .duplicatedLayer(firstLine):
            return "layer defined twice" + (firstLine.map { " (first at line \($0))" } ?? "")
        case .emptyLayer:
            return "layer has no levels"
        case let .duplicatedLevel(level, sparsity, firstLine):
            return "level \(format4(sparsity)) (\(level)) listed twice"
                + (firstLine.map { " (first at line \($0))" } ?? "")
        case let .missingLevels(levels, sparsities):
            let list = zip(levels, sparsities).map { "\(format4($1)) (\($0))" }.joined(separator: ", ")
            return "missing level\(levels.count == 1 ? "" : "s") \(list)"
        case .missingDense:
            return "the dense level 0.0000 is missing (it must always be available)"
        case let .levelNotOnGrid(sparsity, grid):
            return "sparsity \(format4(sparsity)) is not a level of the \(grid)"
        case let .nonPositiveTime(value):
            return "time \(value) is not a positive finite number of seconds"
        case let .levelCountMismatch(found, expected):
            return "\(found) levels listed, the grid has \(expected)"
        case let .prunableSumMismatch(declared, computed, tolerance):
            return "declared prunable time \(declared) s differs from the sum of dense layer times "
                + "\(computed) s by \(abs(declared - computed)) s (tolerance \(tolerance) s)"
        case let .invalidBase(value):
            return "base time \(value) is not a positive finite number of seconds"
        case let .invalidOverhead(value):
            return "overhead \(value) s (base − prunable) is negative or not finite"
        case .noLayers:
            return "the table lists no layers"
        case let .unsupportedFormatVersion(version):
            return "timing table format version \(version) is not supported (this reader knows "
                + "version \(TimingTable.currentFormatVersion))"
        case let .invalidJSON(message):
            return "not a valid timing table JSON: \(message)"
        case .notText:
            return "the file is not UTF-8 text"
        }
    }
}
