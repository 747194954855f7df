import Dispatch
import SPDYEngine
import SPDYGraph
import SPDYTensor

/// The measured end-to-end speedup of pruned models over the dense one on the engine.
///
/// Every model is compiled for the same shapes and threads and timed in many short interleaved
/// rounds: in each round every model runs once untimed and `repetitions` times timed, one model
/// after the other, starting with a different model each round. A model's speedup is the median
/// over rounds of (dense time in the round / model time in the round). On a shared host whose
/// speed drifts over seconds (this project's VMs swing ±15–20% between neighbouring seconds),
/// the two times of one round see the same machine, so their ratio cancels the drift that a
/// ratio of whole-run medians keeps (docs/pipeline.md, "Measuring a speedup").
public struct SpeedupMeasurement {
    /// One model's result.
    public struct Result: Sendable {
        /// Median latency in milliseconds over every timed run.
        public var medianMs: Double
        /// Relative interquartile spread of the latency.
        public var spread: Double
        /// Median over rounds of dense time / this model's time (1 for the dense model itself).
        public var speedup: Double
        /// Relative interquartile spread of the per-round speedups (0 for the dense model).
        public var speedupSpread: Double
        /// Every timed run, in milliseconds, in measurement order.
        public var samplesMs: [Double]
    }

    /// Inputs for the runs.
    public var feeds: [String: Tensor]
    /// Concrete input shapes.
    public var inputShapes: [String: [Int]]
    /// Engine options.
    public var options: EngineOptions
    /// Untimed runs per model before each round's timed runs (brings its weights back into cache).
    public var warmup: Int
    /// Timed runs per model and round.
    public var repetitions: Int
    /// Interleaved rounds at least.
    public var rounds: Int
    /// More rounds while the measurement has taken less than this many seconds (up to
    /// `maximumRounds`): small models get many rounds, large ones the minimum.
    public var minimumSeconds: Double
    /// Rounds at most.
    public var maximumRounds: Int

    /// Creates a measurement.
    public init(feeds: [String: Tensor], inputShapes: [String: [Int]], options: EngineOptions, warmup: Int = 1,
                repetitions: Int = 2, rounds: Int = 21, minimumSeconds: Double = 4, maximumRounds: Int = 400) {
        self.feeds = feeds
        self.inputShapes = inputShapes
        self.options = options
        self.warmup = warmup
        self.repetitions = repetitions
        self.rounds = rounds
        self.minimumSeconds = minimumSeconds
        self.maximumRounds = maximumRounds
    }

    /// Measures `dense` and every model of `models`; results in the order of `models`.
    public func measure(dense: Graph, models: [Graph]) throws -> (dense: Result, models: [Result]) {
        let plans = try ([dense] + models).map { try ExecutionPlan(graph: $0, inputShapes: inputShapes, options: options) }
        let results = try measure(plans: plans)
        return (results[0], Array(results.dropFirst()))
    }

    /// Measures compiled plans; the first is the reference every speedup is relative to.
    public func measure(plans: [ExecutionPlan]) throws -> [Result] {
        precondition(!plans.isEmpty, "no plans to measure")
        for plan in plans { _ = try plan.run(feeds) }
        // roundTimes[round][plan]: the median of that plan's timed runs in the round.
        var roundTimes: [[Double]] = []
        var samples = [[Double]](repeating: [], count: plans.count)
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var round = 0
        while round < rounds || (elapsed() < minimumSeconds && round < maximumRounds) {
            // Rotate the starting model and alternate the direction, so no model always runs
            // right after the same neighbour.
            let rotated = plans.indices.map { (round / 2 + $0) % plans.count }
            let order = round % 2 == 0 ? rotated : rotated.reversed()
            var times = [Double](repeating: 0, count: plans.count)
            for i in order {
                let stats = try LatencyStatistics.measure(warmup: warmup, repetitions: repetitions) { try plans[i].rerun() }
                samples[i] += stats.samples
                times[i] = stats.median
            }
            roundTimes.append(times)
            round += 1
        }
        let paired = Self.pairedSpeedups(roundTimes: roundTimes)
        return plans.indices.map { i in
            let latency = LatencyStatistics(samples: samples[i])
            return Result(medianMs: latency.median, spread: latency.relativeSpread, speedup: paired[i].speedup,
                          speedupSpread: paired[i].spread, samplesMs: samples[i])
        }
    }

    /// Per model: the median over rounds of `roundTimes[r][0] / roundTimes[r][model]` and the
    /// relative interquartile spread of those ratios (the first model's are 1 and 0).
    public static func pairedSpeedups(roundTimes: [[Double]]) -> [(speedup: Double, spread: Double)] {
        guard let first = roundTimes.first else { return [] }
        return first.indices.map { i in
            if i == 0 { return (1, 0) }
            let ratios = LatencyStatistics(samples: roundTimes.map { $0[0] / $0[i] })
            return (ratios.median, ratios.relativeSpread)
        }
    }
}
