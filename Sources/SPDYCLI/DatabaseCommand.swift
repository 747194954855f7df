import ArgumentParser
import Foundation
import SPDYCore
import SPDYPruning

/// `spdy database MODEL --calib DIR -o DB`: Algorithm 3.
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "database",
        abstract: "Build the reconstruction database: every prunable layer pruned and reconstructed at every level (Algorithm 3).",
        discussion: """
            Captures each prunable layer's inputs in the dense model on the calibration set, then builds \
            every level of every layer and writes each layer's file as soon as it is done (atomically). \
            Run it again on the same folder to resume an interrupted build. Methods: exact (default; \
            nested OBS masks with exact least-squares weights) and adaprune (the reference). With \
            --pattern N:M each layer gets one level instead of the grid's: its N:M mask (N of every M \
            consecutive input channels) with reconstructed weights; layers whose channels are not a \
            multiple of M are left out (named) and stay dense.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Calibration folder: one .npy per model input (first axis = samples), optional labels.npy.")
    var calib: String

    @Option(name: .shortAndLong, help: "The database folder.")
    var output: String

    @Option(help: "Reconstruction method: exact or adaprune.")
    var method: String = "exact"

    @Option(help: "Build N:M levels (2:4, 4:8) instead of the sparsity grid's.")
    var pattern: String?

    @Option(help: "Use only the first N calibration samples.")
    var samples: Int?

    @Option(help: "Calibration samples per engine call (and AdaPrune's batch).")
    var batchSize: Int = 32

    @Option(help: "Threads.")
    var threads: Int = 1

    @Option(help: "Seed (AdaPrune's batch order).")
    var seed: UInt64 = 0

    @Option(name: .customLong("layer"), parsing: .singleValue, help: "Build only this layer (repeatable): split a large model over several processes, then copy the files into one folder.")
    var onlyLayers: [String] = []

    func validate() throws {
        if DatabaseBuilder.Method(rawValue: method) == nil { throw ValidationError("--method expects exact or adaprune, got '\(method)'") }
        if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
        if batchSize < 1 || threads < 1 { throw ValidationError("--batch-size and --threads must be at least 1") }
        if let pattern { do { _ = try SparsityPattern(parsing: pattern) } catch { throw ValidationError("--pattern: \(error)") } }
    }

    func run() throws {
        let graph = try model.loadGraph()
        var calibration = try CalibrationSet(directory: calib, graph: graph)
        if let samples { calibration = calibration.prefix(samples) }
        var layers = try PipelineSupport.prunableLayers(graph, shapes: calibration.shapes(batch: 1))
        let pattern = try self.pattern.map { try SparsityPattern(parsing: $0) }
        if let pattern {
            let (fitting, skipped) = try DatabaseBuilder.partition(layers, graph: graph, pattern: pattern)
            for (layer, reason) in skipped { printError("\(pattern): \(layer.id): \(reason)") }
            guard !fitting.isEmpty else { throw CLIError("\(model.model): the \(pattern) pattern fits none of the prunable layers") }
            layers = fitting
        }
        var builder = DatabaseBuilder(graph: graph, modelPath: model.model, layers: layers, calibration: calibration,
                                      method: DatabaseBuilder.Method(rawValue: method)!, threads: threads,
                                      batchSize: batchSize, seed: seed, pattern: pattern)
        if !onlyLayers.isEmpty {
            let known = Set(layers.map(\.id))
            for name in onlyLayers where !known.contains(name) { throw CLIError("--layer \(name): not a prunable layer of \(model.model)") }
            // The manifest lists every layer; only the chosen ones are built here.
            let manifest = builder.manifest()
            _ = try ReconstructionDatabase.openOrCreate(directory: output, manifest: manifest)
            builder.layers = layers.filter { onlyLayers.contains($0.id) }
            builder.manifestLayers = manifest.layers
        }
        var progress = ProgressLine()
        let database = try PipelineRun.buildDatabase(builder, directory: output, progress: &progress)
        let missing = database.missingLayers
        if !missing.isEmpty { printError("database: \(missing.count) layer(s) of the manifest are not built yet") }
    }
}
