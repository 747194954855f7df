/// The times of one prunable layer at every level of the table's grid.
public struct LayerTiming: Hashable, Sendable, Codable {
    /// The layer these times belong to.
    public var layer: LayerID
    /// The time at each grid level, by level index; `nil` marks a level that is unavailable
    /// (e.g. missing from a repaired table): the solver never picks it. Dense is always present
    /// in a validated table.
    public var levels: [LevelTiming?]

    /// Creates the timing of `layer` from its per-level times (index = grid level).
    public init(layer: LayerID, levels: [LevelTiming?]) {
        self.layer = layer
        self.levels = levels
    }

    /// Creates the timing of `layer` from plain seconds per level (no spread recorded).
    public init(layer: LayerID, seconds: [Double]) {
        self.init(layer: layer, levels: seconds.map { LevelTiming(seconds: $0) })
    }

    /// The time in seconds at `level`, or `nil` when that level is unavailable.
    public func seconds(at level: SparsityLevel) -> Double? {
        level.index < levels.count ? levels[level.index]?.seconds : nil
    }

    /// Whether `level` can be chosen for this layer.
    public func isAvailable(_ level: SparsityLevel) -> Bool { seconds(at: level) != nil }

    /// The dense time in seconds (0 when the dense level is missing, which validation rejects).
    public var denseSeconds: Double { seconds(at: .dense) ?? 0 }

    /// The smallest time over the available levels and the first level that attains it.
    public var fastest: (level: SparsityLevel, seconds: Double) {
        var best = (level: SparsityLevel.dense, seconds: Double.infinity)
        for (index, timing) in levels.enumerated() {
            if let seconds = timing?.seconds, seconds < best.seconds { best = (SparsityLevel(index), seconds) }
        }
        return best
    }
}
