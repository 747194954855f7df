/// What global magnitude pruning needs to know about one layer's weights.
public protocol MagnitudeStatistics {
    /// The smallest magnitude threshold θ such that pruning every weight with `|w| ≤ θ` removes
    /// at least the fraction `sparsity` of the layer's weights (`−∞` for 0).
    func threshold(forSparsity sparsity: Double) -> Double
}

/// Magnitude statistics from a layer's weights, kept sorted.
public struct SortedMagnitudes: MagnitudeStatistics, Sendable {
    /// The absolute values of the weights, ascending.
    public let magnitudes: [Float]

    /// Creates the statistics from weights (any sign).
    public init<Weights: Sequence>(weights: Weights) where Weights.Element == Float {
        magnitudes = weights.map { abs($0) }.sorted()
    }

    /// The magnitude of the ⌈sparsity·count⌉-th smallest weight.
    public func threshold(forSparsity sparsity: Double) -> Double {
        let count = (sparsity * Double(magnitudes.count)).rounded(.up)
        guard count >= 1, !magnitudes.isEmpty else { return -.infinity }
        return Double(magnitudes[min(magnitudes.count, Int(count)) - 1])
    }
}

/// The global magnitude baseline: one magnitude threshold over all searched layers, raised until
/// the predicted speedup meets the target. Each layer gets the highest grid level its share of
/// pruned weights reaches (rounded down to the grid, skipping unavailable levels); excluded
/// layers stay dense. The weights themselves come with the pruning pipeline; this is the hook.
public enum GlobalMagnitudeBaseline {
    /// The profile at the smallest threshold that meets `speedup`, and that threshold.
    public static func profile(table: TimingTable, statistics: [LayerID: any MagnitudeStatistics],
                               speedup: Double, excluding excluded: Set<LayerID> = []) throws(BaselineError)
        -> (profile: Profile, threshold: Double)
    {
        let budget: TimeBudget
        do { budget = try TimeBudget(table: table, speedup: speedup, excluding: excluded) } catch {
            guard case let .infeasible(_, maximum) = error else { throw .budget(error) }
            throw .infeasible(method: "global magnitude", target: speedup, maximumSpeedup: maximum)
        }
        // Every threshold at which some layer moves up a level, in increasing order.
        var events: [(threshold: Double, layer: Int, level: SparsityLevel)] = []
        for index in budget.searchedLayers {
            let timing = table.layers[index]
            guard let stats = statistics[timing.layer] else { throw .missingStatistics(timing.layer) }
            for level in table.grid.levels.dropFirst() where timing.isAvailable(level) {
                events.append((stats.threshold(forSparsity: table.grid[level]), index, level))
            }
        }
        events.sort { ($0.threshold, $0.layer, $0.level) < ($1.threshold, $1.layer, $1.level) }
        var levels = [SparsityLevel](repeating: .dense, count: table.layers.count)
        var best = table.baseSeconds / (table.predictedSeconds(levels: levels) ?? .infinity)
        if best >= speedup {
            return (Profile(table: table, levels: levels, method: "global-magnitude", targetSpeedup: speedup), -.infinity)
        }
        var start = 0
        while start < events.count {
            let threshold = events[start].threshold
            var end = start
            while end < events.count, events[end].threshold == threshold {
                let event = events[end]
                if event.level > levels[event.layer] { levels[event.layer] = event.level }
                end += 1
            }
            start = end
            let reached = table.baseSeconds / (table.predictedSeconds(levels: levels) ?? .infinity)
            best = max(best, reached)
            if reached >= speedup {
                return (Profile(table: table, levels: levels, method: "global-magnitude", targetSpeedup: speedup), threshold)
            }
        }
        throw .infeasible(method: "global magnitude", target: speedup, maximumSpeedup: best)
    }
}
