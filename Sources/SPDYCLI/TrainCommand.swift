import ArgumentParser
import Foundation
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYONNX
import SPDYPruning
import SPDYTensor
import SPDYTiming
import SPDYTraining

/// `spdy train MODEL --data DIR --profile P --epochs E -o OUT`: gradual magnitude pruning to a
/// profile while training with labels.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train with labels while pruning gradually to a profile (cubic schedule, magnitude masks, cosine learning rate).",
        discussion: """
            Each profile layer's sparsity rises from --initial-sparsity to its level on Zhu & Gupta's cubic schedule \
            between --prune-start and --prune-end (default: over the first 75% of the epochs), by weight magnitude, \
            then training continues with the masks fixed. The held-out set (--eval or --eval-split) is scored after \
            every epoch. Writes OUTPUT (ONNX, every layer at exactly its profile sparsity), OUTPUT.train-log.json and \
            OUTPUT.train-state.safetensors (saved after every epoch; the same command resumes from it), then measures \
            the pruned model against the dense one on the engine.
            """)

    @Argument(help: "The dense model (ONNX).") var model: String
    @Option(help: "Training folder: one .npy per model input (first axis = samples) and labels.npy.") var data: String
    @Option(help: "The profile to prune to (JSON from spdy search/prune/demo, or the reference's `<sparsity> <layer>` text).") var profile: String
    @Option(help: "Passes over the training set.") var epochs: Int
    @Option(name: .shortAndLong, help: "The pruned ONNX file.") var output: String
    @Option(help: "Held-out folder (same layout, with labels) scored after every epoch.") var eval: String?
    @Option(name: .customLong("eval-split"), help: "Hold out this fraction of --data instead (a seeded random subset).") var evalSplit: Double?
    @Option(help: "Samples per step.") var batch: Int = 32
    @Option(help: "Optimiser: sgd (momentum) or adam.") var optimizer: String = "sgd"
    @Option(help: "Peak learning rate, decayed on a cosine to 0 (default: 0.01 for sgd, 0.001 for adam).") var lr: Double?
    @Option(help: "SGD momentum.") var momentum: Double = 0.9
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay.") var weightDecay: Double = 0
    @Option(name: .customLong("initial-sparsity"), help: "Sparsity of the first masks.") var initialSparsity: Double = 0.05
    @Option(name: .customLong("prune-start"), help: "Epoch (fractions allowed) at which pruning starts.") var pruneStart: Double = 0
    @Option(name: .customLong("prune-end"), help: "Epoch at which every layer reaches its profile sparsity (default: 75% of --epochs).") var pruneEnd: Double?
    @Option(name: .customLong("prune-every"), help: "Optimiser steps between mask updates (default: four per epoch).") var pruneEvery: Int?
    @Option(help: "Seed of the batch order (and of --eval-split).") var seed: UInt64 = 0
    @Option(help: "Threads for training, evaluation and the speed measurement.") var threads: Int = 1
    @Option(name: .customLong("measure-batch"), help: "Batch of the speed measurement (the deployment batch of the profile's timing table).") var measureBatch: Int = 64
    @Option(name: .customLong("measure-rounds"), help: "Interleaved rounds of the speed measurement (0: skip it).") var measureRounds: Int = 7

    func validate() throws {
        guard epochs >= 0 else { throw ValidationError("--epochs must be at least 0") }
        guard batch >= 1, threads >= 1, measureBatch >= 1, measureRounds >= 0 else {
            throw ValidationError("--batch, --threads and --measure-batch must be at least 1, --measure-rounds at least 0")
        }
        guard GradualPruningSettings.OptimizerKind(rawValue: optimizer) != nil else { throw ValidationError("--optimizer expects sgd or adam") }
        if eval != nil && evalSplit != nil { throw ValidationError("give --eval or --eval-split, not both") }
        if let f = evalSplit, !(f > 0 && f < 1) { throw ValidationError("--eval-split must lie strictly between 0 and 1") }
        if let problem = settings.problem { throw ValidationError(problem) }
    }

    var settings: GradualPruningSettings {
        let kind = GradualPruningSettings.OptimizerKind(rawValue: optimizer) ?? .sgd
        return GradualPruningSettings(epochs: epochs, batchSize: batch, optimizer: kind, learningRate: lr ?? (kind == .sgd ? 0.01 : 0.001),
                                      momentum: momentum, weightDecay: weightDecay, initialSparsity: initialSparsity,
                                      pruningStartEpoch: pruneStart, pruningEndEpoch: pruneEnd, pruningFrequency: pruneEvery,
                                      seed: seed, threads: threads)
    }

    func run() throws {
        let graph = try ModelLoader.load(path: model)
        var training = try CalibrationSet(directory: data, graph: graph)
        var heldOut = try eval.map { try CalibrationSet(directory: $0, graph: graph) }
        if let evalSplit { (training, heldOut) = Self.split(training, fraction: evalSplit, seed: seed) }
        let layers = try PipelineSupport.prunableLayers(graph, shapes: training.shapes(batch: 1))
        let parsed = try PipelineSupport.loadProfile(profile)
        let targets = try GradualPruning.targets(profile: parsed, layers: layers)
        let settings = self.settings
        let schedule = settings.schedule(stepsPerEpoch: settings.stepsPerEpoch(samples: training.sampleCount))
        var log = TrainLog(model: model, data: data, eval: eval, evalSplit: evalSplit, profile: profile, settings: settings,
                           schedule: schedule, trainingSamples: training.sampleCount, heldOutSamples: heldOut?.sampleCount)
        let logFile = output + ".train-log.json"
        let state = URL(fileURLWithPath: output + ".train-state.safetensors")
        printError("\(model): \(targets.count) layers pruned to \(profile); \(training.sampleCount) training samples" +
                   (heldOut.map { ", \($0.sampleCount) held out" } ?? "") +
                   String(format: "; %d epochs, batch %d, %@ lr %g (cosine); sparsity %.0f%% → profile over steps %d–%d, every %d steps; state %@",
                          epochs, settings.batchSize, settings.optimizer.rawValue, settings.learningRate, 100 * settings.initialSparsity,
                          schedule.startStep, schedule.endStep, schedule.frequency, state.path))
        if let heldOut {
            let dense = try GradualPruning.evaluate(graph, on: heldOut, threads: threads)
            log.dense = dense
            print(String(format: "dense: held-out loss %.4f, accuracy %.2f%%", dense.loss, 100 * (dense.accuracy ?? 0)))
        }
        let result = try GradualPruning.run(model: graph, targets: targets, data: training, heldOut: heldOut, settings: settings,
                                            stateFile: state) { history in
            for record in history.dropFirst(log.epochs.count) { print(Self.line(record, of: epochs)) }
            fflush(nil)  // epoch lines appear as they happen when stdout is a file or pipe
            log.epochs = history
            try PipelineSupport.write(try PipelineSupport.json(log), to: logFile)
        }
        log.epochs = result.epochs
        try ONNXModel.write(result.graph, to: URL(fileURLWithPath: output))
        log.layers = try targets.map { target in
            let zeros = try Stitcher.weight(target.layer, in: result.graph).floats.filter { $0 == 0 }.count
            return TrainLog.Layer(layer: target.layer, weights: target.count, zeros: zeros, profileZeros: target.finalZeros)
        }
        print("layer sparsity (pruned / profile):")
        for layer in log.layers {
            print(String(format: "  %@ %.2f%% / %.2f%% (%d of %d)", layer.layer, 100 * Double(layer.zeros) / Double(max(layer.weights, 1)),
                         100 * Double(layer.profileZeros) / Double(max(layer.weights, 1)), layer.zeros, layer.weights))
        }
        if let heldOut {
            let final = try GradualPruning.evaluate(result.graph, on: heldOut, threads: threads)
            log.final = final
            print(String(format: "%@: held-out loss %.4f, accuracy %.2f%%", output, final.loss, 100 * (final.accuracy ?? 0)))
        }
        if measureRounds > 0 {
            let shapes = training.shapes(batch: measureBatch)
            let measurement = SpeedupMeasurement(feeds: SyntheticInputs.make(for: graph, shapes: shapes), inputShapes: shapes,
                                                 options: EngineOptions(threads: threads), rounds: measureRounds)
            let (dense, pruned) = try measurement.measure(dense: graph, models: [result.graph])
            log.speed = TrainLog.Speed(batch: measureBatch, threads: threads, denseMs: dense.medianMs, prunedMs: pruned[0].medianMs,
                                       speedup: pruned[0].speedup)
            print(String(format: "measured on the engine (batch %d, %d threads): dense %.3f ms, pruned %.3f ms, speedup %.2f×",
                         measureBatch, threads, dense.medianMs, pruned[0].medianMs, pruned[0].speedup))
        }
        try PipelineSupport.write(try PipelineSupport.json(log), to: logFile)
        if log.layers.contains(where: { $0.zeros != $0.profileZeros }) {
            throw CLIError("\(output): a layer's zeros differ from the profile (see \(logFile))")
        }
    }

    /// One epoch's line.
    static func line(_ r: GradualPruningEpoch, of epochs: Int) -> String {
        var text = String(format: "epoch %d/%d: lr %.3g, train loss %.4f acc %.2f%%", r.epoch, epochs, r.learningRate, r.trainLoss,
                          100 * r.trainAccuracy)
        if let loss = r.heldOutLoss { text += String(format: ", held-out loss %.4f acc %.2f%%", loss, 100 * (r.heldOutAccuracy ?? 0)) }
        return text + String(format: ", sparsity %.1f%% (%.1f s)%@", 100 * r.sparsity, r.seconds, r.resumed ? ", resumed" : "")
    }

    /// `set` split into a training part and a held-out `fraction` (a seeded random subset; both
    /// keep the original order).
    static func split(_ set: CalibrationSet, fraction: Double, seed: UInt64) -> (CalibrationSet, CalibrationSet) {
        let count = set.sampleCount
        let held = min(count - 1, max(1, Int((fraction * Double(count)).rounded())))
        let order = BatchSampler(count: count, batchSize: 1, shuffle: true, seed: seed).order(epoch: 0)
        let heldOut = Set(order.prefix(held))
        let train = (0..<count).filter { !heldOut.contains($0) }, test = (0..<count).filter { heldOut.contains($0) }
        func subset(_ indices: [Int], _ name: String) -> CalibrationSet {
            CalibrationSet(inputs: set.batch(indices), labels: set.labels.map { l in indices.map { l[$0] } }, directory: set.directory + name)
        }
        return (subset(train, " (training part)"), subset(test, " (held-out part)"))
    }
}

/// The JSON log of `spdy train` (OUTPUT.train-log.json), rewritten after every epoch.
struct TrainLog: Encodable {
    struct Layer: Encodable { var layer: String; var weights: Int; var zeros: Int; var profileZeros: Int }
    struct Speed: Encodable { var batch: Int; var threads: Int; var denseMs: Double; var prunedMs: Double; var speedup: Double }
    var model: String, data: String, eval: String?, evalSplit: Double?, profile: String
    var settings: GradualPruningSettings
    var schedule: GradualPruningSchedule
    var trainingSamples: Int, heldOutSamples: Int?
    /// The dense model on the held-out set.
    var dense: Evaluation? = nil
    var epochs: [GradualPruningEpoch] = []
    /// The written model on the held-out set.
    var final: Evaluation? = nil
    var layers: [Layer] = []
    var speed: Speed? = nil
}
