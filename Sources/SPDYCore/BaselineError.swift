/// Why a baseline profile could not be built.
public enum BaselineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The target or the exclusions are invalid.
    case budget(BudgetError)
    /// A searched layer has no magnitude statistics.
    case missingStatistics(LayerID)
    /// No profile of this baseline meets the target; `maximumSpeedup` is the best it reaches.
    case infeasible(method: String, target: Double, maximumSpeedup: Double)

    /// A readable explanation.
    public var description: String {
        switch self {
        case let .budget(error): return error.description
        case let .missingStatistics(layer): return "no magnitude statistics for layer '\(layer)'"
        case let .infeasible(method, target, maximum):
            return "no \(method) profile reaches \(formatSpeedup(target)); the best it reaches is \(formatSpeedup(maximum))"
        }
    }
}
