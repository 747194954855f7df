import Foundation

/// The learning rate as a function of the optimiser step (0-based).
public enum LearningRateSchedule: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The same rate every step.
    case constant(Double)
    /// Linear warm-up from peak/warmupSteps to `peak` over the first `warmupSteps` steps, then
    /// half a cosine from `peak` down to `floor` at `totalSteps` (and `floor` after).
    case cosine(peak: Double, floor: Double, totalSteps: Int, warmupSteps: Int)

    /// A cosine decay without warm-up to 0.
    public static func cosine(peak: Double, totalSteps: Int) -> LearningRateSchedule {
        .cosine(peak: peak, floor: 0, totalSteps: totalSteps, warmupSteps: 0)
    }

    /// The rate at `step`.
    public func rate(at step: Int) -> Double {
        switch self {
        case .constant(let r): return r
        case let .cosine(peak, floor, total, warmup):
            if step < warmup { return peak * Double(step + 1) / Double(warmup) }
            let span = max(1, total - warmup)
            let progress = min(1, max(0, Double(step - warmup) / Double(span)))
            return floor + (peak - floor) * 0.5 * (1 + Foundation.cos(Double.pi * progress))
        }
    }

    public var description: String {
        switch self {
        case .constant(let r): return "constant \(r)"
        case let .cosine(peak, floor, total, warmup):
            return "cosine \(peak) → \(floor) over \(total) steps" + (warmup > 0 ? ", \(warmup) warm-up" : "")
        }
    }
}
