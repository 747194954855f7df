/// Counts the elements the executor holds for passes: activations (and per-node backward data
/// such as max-pool positions) and, separately, gradients of activations during backward.
/// Parameters, their gradients and optimiser state are not counted.
///
/// A value kept by two names (a Reshape output and its input) is counted twice: the count is an
/// upper bound on the memory, exact when no aliasing happens.
public struct ActivationStatistics: Sendable, Equatable {
    /// Activation elements held now.
    public var current: Int = 0
    /// The most activation elements held at once since the last reset.
    public var peak: Int = 0
    /// Activation-gradient elements held now.
    public var gradientCurrent: Int = 0
    /// The most activation-gradient elements held at once since the last reset.
    public var gradientPeak: Int = 0
}

/// The mutable counter shared by an executor and its passes.
final class ActivationCounter {
    private(set) var statistics = ActivationStatistics()

    func hold(_ elements: Int) {
        statistics.current += elements
        statistics.peak = max(statistics.peak, statistics.current)
    }

    func release(_ elements: Int) {
        statistics.current -= elements
        precondition(statistics.current >= 0, "activation counter went negative")
    }

    func holdGradient(_ elements: Int) {
        statistics.gradientCurrent += elements
        statistics.gradientPeak = max(statistics.gradientPeak, statistics.gradientCurrent)
    }

    func releaseGradient(_ elements: Int) {
        statistics.gradientCurrent -= elements
    }

    /// Starts a new peak measurement from the current holdings.
    func resetPeaks() {
        statistics.peak = statistics.current
        statistics.gradientPeak = statistics.gradientCurrent
    }
}
