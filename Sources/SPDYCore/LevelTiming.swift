/// The measured time of one layer at one sparsity level.
public struct LevelTiming: Hashable, Sendable, Codable {
    /// The median time in seconds (per batch, on the table's engine).
    public var seconds: Double
    /// The spread of the repeated measurements in seconds (e.g. interquartile range), if recorded.
    public var spread: Double?

    /// Creates a level timing.
    public init(seconds: Double, spread: Double? = nil) {
        self.seconds = seconds
        self.spread = spread
    }
}
