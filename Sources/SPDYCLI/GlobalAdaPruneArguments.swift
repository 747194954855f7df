import ArgumentParser
import Foundation
import SPDYGraph
import SPDYPruning

/// Options of global AdaPrune (gAP), shared by the commands that can run it.
struct GlobalAdaPruneArguments: ParsableArguments {
    @Flag(help: "Fine-tune the pruned model with global AdaPrune: layer-output distillation against the dense model on the calibration set.")
    var gap = false

    @Option(name: .customLong("gap-epochs"), help: "gAP epochs over the calibration set.")
    var epochs: Int = 100

    @Option(name: .customLong("gap-batch"), help: "gAP batch size.")
    var batch: Int = 32

    @Option(name: .customLong("gap-lr"), help: "gAP learning rate (Adam).")
    var learningRate: Double = 1e-5

    @Option(name: .customLong("gap-seed"), help: "Seed of gAP's batch order.")
    var seed: UInt64 = 0

    func validate() throws {
        guard epochs >= 0 else { throw ValidationError("--gap-epochs must be at least 0") }
        guard batch >= 1 else { throw ValidationError("--gap-batch must be at least 1") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--gap-lr must be a positive number") }
    }

    func settings(threads: Int) -> GlobalAdaPruneSettings {
        GlobalAdaPruneSettings(epochs: epochs, batchSize: batch, learningRate: learningRate, seed: seed, threads: threads)
    }

    /// Runs gAP on `sparse` with progress on stderr; the state lives in `stateFile` (resumed
    /// when present). Prints gAP's calibration loss before and after.
    func run(dense: Graph, sparse: Graph, layers: [PrunableLayer], calibration: CalibrationSet, threads: Int,
             stateFile: URL, label: String) throws -> Graph {
        let settings = settings(threads: threads)
        let sample = calibration.batch(Array(0..<min(calibration.sampleCount, 256)))
        let before = try GlobalAdaPrune.loss(dense: dense, sparse: sparse, layers: layers, feeds: sample, threads: threads)
        printError("\(label): gAP, \(settings.epochs) epochs of \(calibration.sampleCount) samples, batch \(settings.batchSize), " +
                   "Adam \(settings.learningRate); layer-output loss \(String(format: "%.5f", before)) on \(min(calibration.sampleCount, 256)) samples; state \(stateFile.path)")
        var line = ProgressLine()
        let tuned = try GlobalAdaPrune.run(dense: dense, sparse: sparse, layers: layers, calibration: calibration, settings: settings,
                                           stateFile: stateFile) { p in
            let message = String(format: "%@: gAP epoch %d/%d: loss %.5f (%.1f s)%@", label, p.epoch, p.epochs, p.loss, p.seconds,
                                 p.resumed ? ", resumed" : "")
            line.update(message, fraction: Double(p.epoch) / Double(max(p.epochs, 1)))
        }
        let after = try GlobalAdaPrune.loss(dense: dense, sparse: tuned, layers: layers, feeds: sample, threads: threads)
        line.finish(String(format: "%@: gAP layer-output loss %.5f → %.5f", label, before, after))
        return tuned
    }
}
