/// The uniform baseline: every searched layer at the same level, the lowest level whose predicted
/// speedup meets the target; excluded layers dense.
///
/// Because times are not monotone in sparsity, "lowest" is literal: levels are tried from dense
/// upwards and the first that meets the target wins. A level unavailable for some searched layer
/// (repaired tables) cannot be used uniformly and is skipped.
public enum UniformBaseline {
    /// The uniform profile meeting `speedup` (levels in table order).
    public static func levels(table: TimingTable, speedup: Double,
                              excluding excluded: Set<LayerID> = []) throws(BaselineError) -> [SparsityLevel]
    {
        let budget: TimeBudget
        do { budget = try TimeBudget(table: table, speedup: speedup, excluding: excluded) } catch {
            guard case .infeasible = error else { throw .budget(error) }
            throw .infeasible(method: "uniform", target: speedup,
                              maximumSpeedup: bestSpeedup(table: table, excluded: excluded))
        }
        for level in table.grid.levels {
            var levels = [SparsityLevel](repeating: .dense, count: table.layers.count)
            for index in budget.searchedLayers { levels[index] = level }
            if let seconds = table.predictedSeconds(levels: levels), table.baseSeconds / seconds >= speedup {
                return levels
            }
        }
        throw .infeasible(method: "uniform", target: speedup, maximumSpeedup: bestSpeedup(table: table, excluded: excluded))
    }

    /// The uniform profile meeting `speedup`, as a ``Profile``.
    public static func profile(table: TimingTable, speedup: Double,
                               excluding excluded: Set<LayerID> = []) throws(BaselineError) -> Profile
    {
        let levels = try levels(table: table, speedup: speedup, excluding: excluded)
        return Profile(table: table, levels: levels, method: "uniform", targetSpeedup: speedup)
    }

    /// The best speedup any uniform level reaches.
    static func bestSpeedup(table: TimingTable, excluded: Set<LayerID>) -> Double {
        var best = 0.0
        for level in table.grid.levels {
            let levels = table.layers.map { excluded.contains($0.layer) ? SparsityLevel.dense : level }
            if let speedup = table.predictedSpeedup(levels: levels) { best = max(best, speedup) }
        }
        return best
    }
}
