import SPDYEngine
import SPDYGraph
import SPDYTensor

/// The measured end-to-end speedup of pruned models over the dense one on the engine: every
/// model compiled for the same shapes and threads, timed in interleaved rounds (so a shared
/// machine's drift hits all alike), ratio of medians.
public struct SpeedupMeasurement {
    /// One model's result.
    public struct Result: Sendable {
        /// Median latency in milliseconds.
        public var medianMs: Double
        /// Relative interquartile spread.
        public var spread: Double
        /// Dense median / this median.
        public var speedup: Double
    }

    /// Inputs for the runs.
    public var feeds: [String: Tensor]
    /// Concrete input shapes.
    public var inputShapes: [String: [Int]]
    /// Engine options.
    public var options: EngineOptions
    /// Untimed runs per model and round.
    public var warmup: Int
    /// Timed runs per model and round.
    public var repetitions: Int
    /// Interleaved rounds.
    public var rounds: Int

    /// Creates a measurement.
    public init(feeds: [String: Tensor], inputShapes: [String: [Int]], options: EngineOptions, warmup: Int = 2,
                repetitions: Int = 5, rounds: Int = 5) {
        self.feeds = feeds
        self.inputShapes = inputShapes
        self.options = options
        self.warmup = warmup
        self.repetitions = repetitions
        self.rounds = rounds
    }

    /// Measures `dense` and every model of `models`; results in the order of `models`.
    public func measure(dense: Graph, models: [Graph]) throws -> (dense: Result, models: [Result]) {
        let plans = try ([dense] + models).map { try ExecutionPlan(graph: $0, inputShapes: inputShapes, options: options) }
        for plan in plans { _ = try plan.run(feeds) }
        var samples = [[Double]](repeating: [], count: plans.count)
        for round in 0..<rounds {
            let order = round % 2 == 0 ? Array(plans.indices) : Array(plans.indices.reversed())
            for i in order {
                samples[i] += try LatencyStatistics.measure(warmup: warmup, repetitions: repetitions) { try plans[i].rerun() }.samples
            }
        }
        let stats = samples.map { LatencyStatistics(samples: $0) }
        let results = stats.map { Result(medianMs: $0.median, spread: $0.relativeSpread, speedup: stats[0].median / $0.median) }
        return (results[0], Array(results.dropFirst()))
    }
}
