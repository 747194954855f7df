import Dispatch

/// Latency figures from repeated runs: median and spread, in milliseconds.
public struct LatencyStatistics: Sendable, Codable, Equatable {
    /// Every measured run, in milliseconds, in measurement order.
    public var samples: [Double]

    public init(samples: [Double]) {
        precondition(!samples.isEmpty, "no samples")
        self.samples = samples
    }

    private var sorted: [Double] { samples.sorted() }
    /// The median run time.
    public var median: Double { quantile(0.5) }
    /// The fastest run.
    public var minimum: Double { sorted.first! }
    /// The slowest run.
    public var maximum: Double { sorted.last! }
    /// Interquartile range relative to the median (a robust spread).
    public var relativeSpread: Double { median > 0 ? (quantile(0.75) - quantile(0.25)) / median : 0 }

    /// The q-quantile (linear interpolation).
    public func quantile(_ q: Double) -> Double {
        let s = sorted
        let position = q * Double(s.count - 1)
        let lo = Int(position.rounded(.down)), hi = Int(position.rounded(.up))
        return s[lo] + (s[hi] - s[lo]) * (position - Double(lo))
    }

    /// Times `body` `repetitions` times after `warmup` untimed calls.
    public static func measure(warmup: Int = 3, repetitions: Int = 10, _ body: () throws -> Void) rethrows -> LatencyStatistics {
        for _ in 0..<warmup { try body() }
        var samples: [Double] = []
        samples.reserveCapacity(repetitions)
        for _ in 0..<max(1, repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return LatencyStatistics(samples: samples)
    }
}
