/// Why a speed target cannot be turned into a solvable problem.
public enum BudgetError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The speedup is not a finite number greater than 0.
    case invalidSpeedup(Double)
    /// An excluded layer is not in the table.
    case unknownLayer(LayerID)
    /// Every layer is excluded: there is nothing to prune.
    case nothingToPrune
    /// Even the fastest level of every searched layer misses the target.
    case infeasible(target: Double, maximumSpeedup: Double)
    /// The target is reachable on the timing model, but not once every time is rounded up to
    /// whole buckets; more buckets (or a slightly lower target) make it solvable.
    case infeasibleAfterRounding(target: Double, maximumSpeedup: Double, buckets: Int)

    /// A readable explanation that names the largest achievable speedup.
    public var description: String {
        switch self {
        case let .invalidSpeedup(value):
            return "speedup target \(value) is not a positive finite number"
        case let .unknownLayer(layer):
            return "excluded layer '\(layer)' is not in the timing table"
        case .nothingToPrune:
            return "every layer is excluded from pruning: nothing to search"
        case let .infeasible(target, maximum):
            return "speedup \(formatSpeedup(target)) is not achievable on this timing table: "
                + "the largest achievable speedup is \(formatSpeedup(maximum)) (every searched layer at its fastest level, "
                + "excluded layers dense)"
        case let .infeasibleAfterRounding(target, maximum, buckets):
            return "speedup \(formatSpeedup(target)) is within the largest achievable \(formatSpeedup(maximum)), but "
                + "not after rounding every layer time up to \(buckets) buckets; use more buckets or a lower target"
        }
    }
}

/// Formats a speedup like `2.000×`.
func formatSpeedup(_ value: Double) -> String { format4(value).dropLast() + "×" }
