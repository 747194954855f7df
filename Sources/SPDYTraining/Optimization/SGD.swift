import SPDYTensor

/// Stochastic gradient descent with momentum, as `torch.optim.SGD`: g += λθ; b = μ·b + (1−d)·g
/// (b = g on the first step); g = g + μ·b with Nesterov, else b; θ −= lr·g.
public final class SGD: Optimizer {
    /// SGD's constants.
    public struct Settings: Sendable, Equatable, Codable {
        public var momentum: Double
        public var dampening: Double
        public var nesterov: Bool
        public var weightDecay: Double

        public init(momentum: Double = 0.9, dampening: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
            self.momentum = momentum
            self.dampening = dampening
            self.nesterov = nesterov
            self.weightDecay = weightDecay
        }
    }

    public var schedule: LearningRateSchedule
    public private(set) var settings: Settings
    public private(set) var stepCount = 0
    private var buffers: [String: [Float]] = [:]

    public init(schedule: LearningRateSchedule = .constant(0.01), settings: Settings = Settings()) {
        self.schedule = schedule
        self.settings = settings
    }

    public func step(_ parameters: TrainingParameters) {
        let lr = Float(schedule.rate(at: stepCount))
        stepCount += 1
        let mu = Float(settings.momentum), damp = Float(settings.dampening), decay = Float(settings.weightDecay)
        let nesterov = settings.nesterov
        parameters.forEachUpdate { name, value, gradient, mask in
            if decay != 0 { for k in 0..<value.count { gradient[k] += decay * value[k] } }
            if mu != 0 {
                var b = buffers.removeValue(forKey: name) ?? []
                if b.isEmpty {
                    b = Array(gradient)
                } else {
                    for k in 0..<value.count { b[k] = mu * b[k] + (1 - damp) * gradient[k] }
                }
                clearPruned(&b, mask: mask)
                buffers[name] = b
                if nesterov {
                    for k in 0..<value.count { gradient[k] += mu * b[k] }
                } else {
                    for k in 0..<value.count { gradient[k] = b[k] }
                }
            }
            for k in 0..<value.count { value[k] -= lr * gradient[k] }
        }
    }

    public func exportState() -> OptimizerState {
        OptimizerState(kind: "sgd", stepCount: stepCount, settings: SettingsCoding.encode(settings), schedule: schedule,
                       buffers: Dictionary(uniqueKeysWithValues: buffers.map { ("momentum/\($0.key)", Tensor(shape: [$0.value.count], floats: $0.value)) }))
    }

    public func importState(_ state: OptimizerState) throws {
        guard state.kind == "sgd" else { throw TrainingError.badState(path: "optimizer", reason: "state of a \(state.kind) optimiser, not SGD") }
        settings = try SettingsCoding.decode(Settings.self, state.settings)
        schedule = state.schedule
        stepCount = state.stepCount
        buffers = [:]
        for (key, tensor) in state.buffers where key.hasPrefix("momentum/") {
            buffers[String(key.dropFirst("momentum/".count))] = tensor.floats
        }
    }
}
