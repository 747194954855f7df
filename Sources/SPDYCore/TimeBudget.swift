/// The time available to the searched layers for a target speedup:
/// `T = base / X − overhead − Σ dense time of the excluded layers`.
///
/// Excluded layers stay dense and are charged at their dense time (the reference forgot this).
public struct TimeBudget: Hashable, Sendable {
    /// The target speedup X.
    public let targetSpeedup: Double
    /// The dense end-to-end time `base`.
    public let baseSeconds: Double
    /// The table's overhead.
    public let overheadSeconds: Double
    /// The summed dense time of the excluded layers.
    public let excludedSeconds: Double
    /// The budget T of the searched layers.
    public let searchedSeconds: Double
    /// The indices (table order) of the searched layers.
    public let searchedLayers: [Int]
    /// The indices (table order) of the excluded layers.
    public let excludedLayers: [Int]
    /// The sum over searched layers of their fastest available time.
    public let minimumSearchedSeconds: Double
    /// The largest achievable speedup: every searched layer at its fastest level.
    public let maximumSpeedup: Double

    /// Computes the budget; throws when the target is infeasible, naming the largest achievable speedup.
    public init(table: TimingTable, speedup: Double, excluding excluded: Set<LayerID> = []) throws(BudgetError) {
        guard speedup.isFinite, speedup > 0 else { throw .invalidSpeedup(speedup) }
        for layer in excluded.sorted() where table.index(of: layer) == nil { throw .unknownLayer(layer) }
        var searched: [Int] = []
        var excludedIndices: [Int] = []
        var excludedSeconds = 0.0
        var minimum = 0.0
        for (index, timing) in table.layers.enumerated() {
            if excluded.contains(timing.layer) {
                excludedIndices.append(index)
                excludedSeconds += timing.denseSeconds
            } else {
                searched.append(index)
                minimum += timing.fastest.seconds
            }
        }
        guard !searched.isEmpty else { throw .nothingToPrune }
        targetSpeedup = speedup
        baseSeconds = table.baseSeconds
        overheadSeconds = table.overheadSeconds
        self.excludedSeconds = excludedSeconds
        searchedSeconds = table.baseSeconds / speedup - table.overheadSeconds - excludedSeconds
        searchedLayers = searched
        excludedLayers = excludedIndices
        minimumSearchedSeconds = minimum
        maximumSpeedup = table.baseSeconds / (table.overheadSeconds + excludedSeconds + minimum)
        guard searchedSeconds >= minimum else { throw .infeasible(target: speedup, maximumSpeedup: maximumSpeedup) }
    }

    /// The end-to-end time the target allows: `base / X`.
    public var totalSeconds: Double { baseSeconds / targetSpeedup }
}
