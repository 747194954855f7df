import Foundation
import SPDYTensor

/// Adam (Kingma & Ba), as `torch.optim.Adam`: m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g²,
/// θ −= lr·m̂ / (√v̂ + ε) with bias corrections m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ), t counted per
/// parameter. Weight decay adds λθ to the gradient (L2), or with `decoupled` shrinks θ by
/// lr·λ before the update (AdamW).
public final class Adam: Optimizer {
    /// Adam's constants.
    public struct Settings: Sendable, Equatable, Codable {
        public var beta1: Double
        public var beta2: Double
        public var epsilon: Double
        public var weightDecay: Double
        public var decoupled: Bool

        public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0, decoupled: Bool = false) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.decoupled = decoupled
        }
    }

    public var schedule: LearningRateSchedule
    public private(set) var settings: Settings
    public private(set) var stepCount = 0
    private var first: [String: [Float]] = [:]
    private var second: [String: [Float]] = [:]
    private var steps: [String: Int] = [:]

    public init(schedule: LearningRateSchedule = .constant(1e-3), settings: Settings = Settings()) {
        self.schedule = schedule
        self.settings = settings
    }

    public func step(_ parameters: TrainingParameters) {
        let lr = Float(schedule.rate(at: stepCount))
        stepCount += 1
        let b1 = Float(settings.beta1), b2 = Float(settings.beta2), eps = Float(settings.epsilon)
        let decay = Float(settings.weightDecay), decoupled = settings.decoupled
        parameters.forEachUpdate { name, value, gradient, mask in
            let t = (steps[name] ?? 0) + 1
            steps[name] = t
            let c1 = Float(1 - Foundation.pow(settings.beta1, Double(t))), c2 = Float(1 - Foundation.pow(settings.beta2, Double(t)))
            var m = first[name] ?? [Float](repeating: 0, count: value.count)
            var v = second[name] ?? [Float](repeating: 0, count: value.count)
            let stepSize = lr / c1, root2 = c2.squareRoot()
            m.withUnsafeMutableBufferPointer { mb in
                v.withUnsafeMutableBufferPointer { vb in
                    for k in 0..<value.count {
                        var g = gradient[k]
                        if decay != 0 {
                            if decoupled { value[k] -= lr * decay * value[k] } else { g += decay * value[k] }
                        }
                        mb[k] = b1 * mb[k] + (1 - b1) * g
                        vb[k] = b2 * vb[k] + (1 - b2) * g * g
                        value[k] -= stepSize * mb[k] / (vb[k].squareRoot() / root2 + eps)
                    }
                }
            }
            clearPruned(&m, mask: mask)
            clearPruned(&v, mask: mask)
            first[name] = m
            second[name] = v
        }
    }

    public func exportState() -> OptimizerState {
        var buffers: [String: Tensor] = [:]
        for (name, m) in first { buffers["m/\(name)"] = Tensor(shape: [m.count], floats: m) }
        for (name, v) in second { buffers["v/\(name)"] = Tensor(shape: [v.count], floats: v) }
        for (name, t) in steps { buffers["t/\(name)"] = Tensor(shape: [1], integers: [Int64(t)]) }
        return OptimizerState(kind: "adam", stepCount: stepCount, settings: SettingsCoding.encode(settings), schedule: schedule,
                              buffers: buffers)
    }

    public func importState(_ state: OptimizerState) throws {
        guard state.kind == "adam" else { throw TrainingError.badState(path: "optimizer", reason: "state of a \(state.kind) optimiser, not Adam") }
        settings = try SettingsCoding.decode(Settings.self, state.settings)
        schedule = state.schedule
        stepCount = state.stepCount
        first = [:]; second = [:]; steps = [:]
        for (key, tensor) in state.buffers {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "m": first[parts[1]] = tensor.floats
            case "v": second[parts[1]] = tensor.floats
            case "t": steps[parts[1]] = Int(tensor.integers.first ?? 0)
            default: break
            }
        }
    }
}
