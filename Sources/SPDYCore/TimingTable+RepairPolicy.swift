extension TimingTable {
    /// How to load a table with defects. The default, ``strict``, rejects every defect; any other
    /// choice is explicit, and every repair applied is recorded in ``TimingTable/repairs``.
    ///
    /// Never repairable: a missing dense level, non-numeric values, levels that are not on the
    /// grid, non-positive times, header problems and a prunable-sum mismatch.
    public struct RepairPolicy: Hashable, Sendable {
        /// What to do when a layer lists the same level twice.
        public enum DuplicatedLevel: String, Hashable, Sendable, CaseIterable {
            /// Refuse the table.
            case reject
            /// Keep the first occurrence (in the published tables the declared prunable sum was
            /// computed from the first occurrence of a duplicated dense level).
            case keepFirst
            /// Keep the median of the occurrences (the mean of the middle two for an even count).
            case keepMedian
        }

        /// What to do when a layer does not list some non-dense level of the grid.
        public enum MissingLevel: String, Hashable, Sendable, CaseIterable {
            /// Refuse the table.
            case reject
            /// Mark the level unavailable for that layer: the solver never picks it.
            case markUnavailable
        }

        /// What to do with a layer block that has no level lines.
        public enum EmptyLayer: String, Hashable, Sendable, CaseIterable {
            /// Refuse the table.
            case reject
            /// Drop the block (the layer is not prunable according to this table).
            case drop
        }

        /// The rule for duplicated levels.
        public var duplicatedLevel: DuplicatedLevel
        /// The rule for missing levels.
        public var missingLevel: MissingLevel
        /// The rule for empty layer blocks.
        public var emptyLayer: EmptyLayer

        /// Creates a policy; every rule defaults to rejecting.
        public init(duplicatedLevel: DuplicatedLevel = .reject, missingLevel: MissingLevel = .reject,
                    emptyLayer: EmptyLayer = .reject)
        {
            self.duplicatedLevel = duplicatedLevel
            self.missingLevel = missingLevel
            self.emptyLayer = emptyLayer
        }

        /// Reject every defect (the default).
        public static let strict = RepairPolicy()

        /// Keep the first of duplicated levels, mark missing levels unavailable, drop empty blocks.
        public static let repairAll = RepairPolicy(duplicatedLevel: .keepFirst, missingLevel: .markUnavailable,
                                                   emptyLayer: .drop)
    }
}

/// A repair applied while loading a defective table (see ``TimingTable/RepairPolicy``).
public struct TimingTableRepair: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The file the defect was in, if known.
    public var file: String?
    /// The 1-based line of the defect, if known.
    public var line: Int?
    /// The layer concerned.
    public var layer: LayerID
    /// What was wrong and what was done, in words.
    public var action: String

    /// Creates a repair record.
    public init(file: String?, line: Int?, layer: LayerID, action: String) {
        self.file = file
        self.line = line
        self.layer = layer
        self.action = action
    }

    /// `file:line: layer NAME: action`.
    public var description: String {
        var prefix = ""
        if let file { prefix += file + ":" }
        if let line { prefix += "\(line):" }
        if !prefix.isEmpty { prefix += " " }
        return prefix + "layer \(layer): " + action
    }
}
