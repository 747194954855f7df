/// A solved profile: the level of every table layer, its cost and predicted time and speedup.
public struct DPSolution: Hashable, Sendable {
    /// The level of every table layer (table order; excluded layers dense).
    public var levels: [SparsityLevel]
    /// The total cost of the chosen levels.
    public var cost: Double
    /// The buckets the chosen levels use (≤ B).
    public var bucketsUsed: Int
    /// The exact predicted end-to-end time on the timing model.
    public var predictedSeconds: Double
    /// The exact predicted speedup `base / predictedSeconds`.
    public var predictedSpeedup: Double
}
