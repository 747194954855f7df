import Foundation
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYTensor
import SPDYTraining

/// Settings of gradual pruning to a profile (defaults: SGD with momentum 0.9 at a cosine-decayed
/// 0.01, batch 32, sparsity rising from 5% over the first 75% of the epochs, masks updated four
/// times per epoch).
public struct GradualPruningSettings: Sendable, Codable, Equatable {
    /// The optimiser.
    public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
        /// SGD with momentum (`momentum`, `weightDecay`).
        case sgd
        /// Adam (β 0.9/0.999; `weightDecay` as L2).
        case adam
    }

    /// Passes over the training set.
    public var epochs: Int
    /// Samples per step (an epoch drops the last incomplete batch).
    public var batchSize: Int
    /// The optimiser.
    public var optimizer: OptimizerKind
    /// The learning rate at the first step; it decays on a half cosine to 0 at the last.
    public var learningRate: Double
    /// SGD's momentum.
    public var momentum: Double
    /// Weight decay (L2, added to the gradient).
    public var weightDecay: Double
    /// The sparsity of the first masks (capped at each layer's profile sparsity).
    public var initialSparsity: Double
    /// The epoch (fractional allowed) at which pruning starts.
    public var pruningStartEpoch: Double
    /// The epoch at which every layer reaches its profile sparsity; nil: 75% of `epochs`.
    public var pruningEndEpoch: Double?
    /// Optimiser steps between mask updates; nil: four updates per epoch.
    public var pruningFrequency: Int?
    /// Seed of the batch order.
    public var seed: UInt64
    /// Threads of the training executor and of evaluation.
    public var threads: Int

    /// Creates settings.
    public init(epochs: Int, batchSize: Int = 32, optimizer: OptimizerKind = .sgd, learningRate: Double = 0.01,
                momentum: Double = 0.9, weightDecay: Double = 0, initialSparsity: Double = 0.05,
                pruningStartEpoch: Double = 0, pruningEndEpoch: Double? = nil, pruningFrequency: Int? = nil,
                seed: UInt64 = 0, threads: Int = 1) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.initialSparsity = initialSparsity
        self.pruningStartEpoch = pruningStartEpoch
        self.pruningEndEpoch = pruningEndEpoch
        self.pruningFrequency = pruningFrequency
        self.seed = seed
        self.threads = threads
    }

    /// Optimiser steps per epoch over `samples` training samples (incomplete batches dropped).
    public func stepsPerEpoch(samples: Int) -> Int { samples / max(1, min(batchSize, samples)) }

    /// The schedule for epochs of `stepsPerEpoch` optimiser steps: the window's epochs rounded
    /// to steps, the end at most the last step.
    public func schedule(stepsPerEpoch: Int) -> GradualPruningSchedule {
        let total = epochs * stepsPerEpoch
        let last = max(0, total - 1)
        let start = min(last, Int((pruningStartEpoch * Double(stepsPerEpoch)).rounded()))
        let endEpoch = pruningEndEpoch ?? 0.75 * Double(epochs)
        let end = min(last, max(start, Int((endEpoch * Double(stepsPerEpoch)).rounded())))
        let frequency = pruningFrequency ?? max(1, Int((Double(stepsPerEpoch) / 4).rounded()))
        return GradualPruningSchedule(initialSparsity: initialSparsity, startStep: start, endStep: end, frequency: frequency)
    }

    /// Argument errors, or nil.
    public var problem: String? {
        if epochs < 0 { return "needs epochs ≥ 0" }
        if batchSize < 1 { return "needs a batch of at least 1" }
        if !(learningRate > 0 && learningRate.isFinite) { return "needs a positive learning rate" }
        if !(0...1).contains(initialSparsity) { return "the initial sparsity must be in [0, 1]" }
        if pruningStartEpoch < 0 || (pruningEndEpoch.map { $0 < pruningStartEpoch } ?? false) { return "needs 0 ≤ pruning start ≤ pruning end" }
        if let f = pruningFrequency, f < 1 { return "the pruning frequency must be at least 1 step" }
        if threads < 1 { return "needs at least 1 thread" }
        return nil
    }
}

/// What one epoch of gradual pruning did.
public struct GradualPruningEpoch: Sendable, Codable, Equatable {
    /// Epochs completed (1-based).
    public var epoch: Int
    /// Optimiser steps taken so far.
    public var steps: Int
    /// The learning rate of the epoch's last step.
    public var learningRate: Double
    /// Mean cross-entropy and accuracy over the epoch's training batches (BatchNorm in training
    /// mode, weights as they were at each step).
    public var trainLoss: Double, trainAccuracy: Double
    /// Cross-entropy and top-1 accuracy on the held-out set after the epoch, if one was given.
    public var heldOutLoss: Double?, heldOutAccuracy: Double?
    /// Pruned fraction of the targets' weights after the epoch.
    public var sparsity: Double
    /// Seconds the epoch took (training and evaluation).
    public var seconds: Double
    /// Whether the run resumed from a saved state before this epoch.
    public var resumed: Bool
}

/// The result of gradual pruning.
public struct GradualPruningResult {
    /// The trained model: every target at exactly its final zero count, BatchNorm statistics
    /// updated.
    public var graph: Graph
    /// One record per epoch (those before a resume included).
    public var epochs: [GradualPruningEpoch]
}

/// Gradual magnitude pruning to a profile: training with labels (cross-entropy on the model's
/// scored output) while each target layer's sparsity rises on Zhu & Gupta's cubic schedule to
/// its profile level, masks by magnitude (nested), a cosine learning rate, BatchNorm on batch
/// statistics with running statistics updated, evaluation after every epoch; after the pruning
/// window the masks stay fixed and training fine-tunes. Pruned weights are exactly zero after
/// every step and so is their optimiser state.
///
/// With a state file the run saves parameters, masks, optimiser, batch order, completed epochs
/// and their records after every epoch and resumes from it when called again with the same
/// model, data, targets and settings.
public enum GradualPruning {
    /// The targets pruning `layers` of `graph` to `profile`: every listed layer at a level above
    /// dense (layers at level 0 and unlisted ones stay dense). Throws for profile layers the
    /// model does not have.
    public static func targets(profile: Profile, layers: [PrunableLayer]) throws -> [GradualPruningTarget] {
        let byID = Dictionary(layers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var result: [GradualPruningTarget] = []
        for entry in profile.layers {
            guard let layer = byID[entry.layer.name] else {
                throw PruningError.profile(layer: entry.layer.name, reason: "not a prunable layer of the model")
            }
            guard entry.level != .dense else { continue }
            let count = layer.parameters
            result.append(GradualPruningTarget(layer: layer.id, count: count,
                                               finalZeros: count - profile.grid.survivors(level: entry.level.index, of: count)))
        }
        return result
    }

    /// Trains `model` on `data` (which needs labels), pruning `targets` gradually; evaluates on
    /// `heldOut` after every epoch. `progress` is called after every epoch, after the state is
    /// saved, with the records so far (the new one last; those of a run resumed from included);
    /// throwing from it stops the run, which a later call resumes.
    public static func run(model: Graph, targets: [GradualPruningTarget], data: CalibrationSet, heldOut: CalibrationSet? = nil,
                           settings: GradualPruningSettings, stateFile: URL? = nil,
                           progress: ([GradualPruningEpoch]) throws -> Void = { _ in }) throws -> GradualPruningResult {
        if let problem = settings.problem { throw PruningError.training(file: data.directory, reason: problem) }
        guard let labels = data.labels else {
            throw PruningError.calibration(file: data.directory, reason: "training needs labels.npy")
        }
        if let heldOut, heldOut.labels == nil {
            throw PruningError.calibration(file: heldOut.directory, reason: "evaluation needs labels.npy")
        }
        guard let output = ModelEvaluator.scoredOutput(of: model) else {
            throw PruningError.unsupportedLayer(layer: model.name, reason: "the model has no output")
        }
        let student = try TrainingExecutor(graph: model, options: TrainingOptions(
            threads: settings.threads, batchNorm: .batchStatistics(momentum: nil), selection: .all))
        for target in targets {
            guard let w = student.parameters.value(target.layer), w.count == target.count else {
                throw PruningError.profile(layer: target.layer, reason: "not a weight of \(target.count) elements in the model")
            }
        }
        var sampler = BatchSampler(count: data.sampleCount, batchSize: min(settings.batchSize, data.sampleCount),
                                   shuffle: true, dropLast: true, seed: settings.seed)
        let stepsPerEpoch = settings.stepsPerEpoch(samples: data.sampleCount)
        precondition(stepsPerEpoch == sampler.batchesPerEpoch, "the sampler and the settings count steps alike")
        let schedule = settings.schedule(stepsPerEpoch: stepsPerEpoch)
        let rates = LearningRateSchedule.cosine(peak: settings.learningRate, totalSteps: max(1, settings.epochs * stepsPerEpoch))
        let optimizer: Optimizer = switch settings.optimizer {
        case .sgd: SGD(schedule: rates, settings: .init(momentum: settings.momentum, weightDecay: settings.weightDecay))
        case .adam: Adam(schedule: rates, settings: .init(weightDecay: settings.weightDecay))
        }
        let identity = fingerprint(model: model, targets: targets, data: data, heldOut: heldOut, settings: settings)
        var records: [GradualPruningEpoch] = []
        var resumed = false
        if let stateFile, FileManager.default.fileExists(atPath: stateFile.path) {
            let saved = try TrainingCheckpoint.read(from: stateFile, into: student.parameters, optimizer: optimizer)
            guard saved.metadata["gradual.identity"] == identity, let restored = saved.sampler,
                  let history = saved.metadata["gradual.epochs"].flatMap({ try? JSONDecoder().decode([GradualPruningEpoch].self, from: Data($0.utf8)) })
            else {
                throw PruningError.training(file: stateFile.path, reason: "the saved state belongs to another model, data set, profile or settings: delete it to start over")
            }
            records = history
            sampler = restored
            resumed = true
        }
        while records.count < settings.epochs {
            let start = Date()
            var loss = 0.0, correct = 0, seen = 0
            for _ in 0..<stepsPerEpoch {
                guard let indices = sampler.next() else { break }
                let step = optimizer.stepCount
                if schedule.prunes(at: step) { try updateMasks(student.parameters, targets: targets, schedule: schedule, step: step) }
                let pass = try student.forward(data.batch(indices))
                guard let logits = pass.value(output) else { throw PruningError.unsupportedLayer(layer: output, reason: "no value") }
                let batchLabels = indices.map { labels[$0] }
                let l = try Loss.crossEntropy(logits: logits, labels: batchLabels)
                student.parameters.zeroGradients()
                try student.backward(pass, seeds: [output: l.gradient])
                optimizer.step(student.parameters)
                loss += l.value * Double(indices.count)
                correct += zip(topClasses(logits), batchLabels).filter { $0 == $1 }.count
                seen += indices.count
            }
            var record = GradualPruningEpoch(
                epoch: records.count + 1, steps: optimizer.stepCount, learningRate: rates.rate(at: max(0, optimizer.stepCount - 1)),
                trainLoss: loss / Double(max(seen, 1)), trainAccuracy: Double(correct) / Double(max(seen, 1)),
                heldOutLoss: nil, heldOutAccuracy: nil, sparsity: sparsity(student.parameters, targets: targets), seconds: 0, resumed: resumed)
            if let heldOut {
                let score = try evaluate(student.trainedGraph(), on: heldOut, threads: settings.threads)
                record.heldOutLoss = score.loss
                record.heldOutAccuracy = score.accuracy
            }
            record.seconds = Date().timeIntervalSince(start)
            records.append(record)
            if let stateFile {
                let history = String(decoding: try JSONEncoder().encode(records), as: UTF8.self)
                try TrainingCheckpoint.write(to: stateFile, parameters: student.parameters, optimizer: optimizer, sampler: sampler,
                                             metadata: ["gradual.identity": identity, "gradual.epochs": history])
            }
            try progress(records)
            resumed = false
        }
        // The profile exactly, whatever the window: a no-op when the last update reached it.
        try updateMasks(student.parameters, targets: targets, schedule: schedule, step: schedule.endStep)
        return GradualPruningResult(graph: student.trainedGraph(), epochs: records)
    }

    /// Cross-entropy and top-1 accuracy of `graph` on the labelled `set`, on the engine.
    public static func evaluate(_ graph: Graph, on set: CalibrationSet, threads: Int) throws -> Evaluation {
        let evaluator = ModelEvaluator(batchSize: ModelEvaluator.batchSize(for: set), options: EngineOptions(threads: threads))
        let outputs = try evaluator.outputs(of: graph, on: set)
        return CalibrationLoss.score(outputs.values, width: outputs.width, dense: outputs.values, labels: set.labels, kind: .crossEntropy)
    }

    /// Sets every target's mask to its zero count at `step` (nested in the current mask).
    static func updateMasks(_ parameters: TrainingParameters, targets: [GradualPruningTarget], schedule: GradualPruningSchedule,
                            step: Int) throws {
        for target in targets {
            let zeros = schedule.zeros(at: step, finalZeros: target.finalZeros, of: target.count)
            guard zeros > 0, let w = parameters.value(target.layer) else { continue }
            let previous = parameters.mask(target.layer).map { $0.floats.map { $0 != 0 } }
            let keep = MagnitudeMask.keep(w.floats, zeros: zeros, previous: previous)
            try parameters.setMask(target.layer, Tensor(shape: w.shape, bools: keep))
        }
    }

    /// The pruned fraction of the targets' weights (masked elements).
    static func sparsity(_ parameters: TrainingParameters, targets: [GradualPruningTarget]) -> Double {
        var pruned = 0, total = 0
        for target in targets {
            total += target.count
            pruned += parameters.mask(target.layer).map { $0.floats.filter { $0 == 0 }.count } ?? 0
        }
        return total > 0 ? Double(pruned) / Double(total) : 0
    }

    /// The top class of every row of `[N, C]` logits.
    static func topClasses(_ logits: Tensor) -> [Int] {
        let n = logits.shape[0], c = logits.count / max(n, 1)
        let x = logits.floats
        return (0..<n).map { row in (0..<c).max { x[row * c + $0] < x[row * c + $1] } ?? 0 }
    }

    /// Identifies what a saved state belongs to.
    static func fingerprint(model: Graph, targets: [GradualPruningTarget], data: CalibrationSet, heldOut: CalibrationSet?,
                            settings: GradualPruningSettings) -> String {
        var digest = Fingerprint()
        for name in model.initializers.keys.sorted() {
            guard let w = model.initializers[name], w.dataType == .float32 else { continue }
            digest.add(name)
            digest.add(w.floats)
        }
        for target in targets { digest.add("\(target.layer) \(target.count) \(target.finalZeros)") }
        digest.add(data.fingerprint)
        digest.add(heldOut?.fingerprint ?? "-")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        digest.add(String(decoding: (try? encoder.encode(settings)) ?? Data(), as: UTF8.self))
        return digest.hex
    }
}
