import ArgumentParser
import Foundation
import SPDYCore
import SPDYGraph
import SPDYONNX
import SPDYPruning

/// Options shared by the commands that search: the loss and the search's parameters.
struct SearchArguments: ParsableArguments {
    @Option(help: "Calibration loss: auto, ce (labels), kl (dense logits), mse (dense outputs, normalised).")
    var loss: String = "auto"

    @Option(help: "Seed of the search.")
    var seed: UInt64 = 0

    @Option(help: "Random candidates before the local search (reference: 100).")
    var candidates: Int = 100

    @Option(help: "Consecutive failures before the local search shrinks its step (reference: 100).")
    var patience: Int = 100

    @Option(help: "Score candidates on the first N calibration samples only.")
    var searchSamples: Int?

    @Option(name: .customLong("exclude"), parsing: .singleValue, help: "A layer kept dense (repeatable; replaces the default: a CNN's first convolution and final classifier).")
    var excluded: [String] = []

    @Flag(help: "Score every candidate with a whole pass (no reuse of earlier candidates' passes; for comparison).")
    var fullPasses = false

    func validate() throws {
        if loss != "auto" && LossKind(rawValue: loss) == nil { throw ValidationError("--loss expects auto, ce, kl or mse") }
        if candidates < 1 || patience < 1 { throw ValidationError("--candidates and --patience must be at least 1") }
        if let n = searchSamples, n < 1 { throw ValidationError("--search-samples must be at least 1") }
    }

    var lossKind: LossKind? { LossKind(rawValue: loss) }
    var exclusions: [String]? { excluded.isEmpty ? nil : excluded }
}

/// `spdy search MODEL --db DB --timings T --speedup X --calib DIR -o profile.json`.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the per-layer sparsity profile that meets a speedup with the least calibration loss (Algorithms 1 and 4).",
        discussion: "The search state is saved beside the output after every few evaluations; run the same command again to resume.")

    @OptionGroup var model: ModelOptions
    @Option(help: "The reconstruction database folder.") var db: String
    @Option(help: "The timing table.") var timings: String
    @Option(help: "Target speedup over the dense model.") var speedup: Double
    @Option(help: "Calibration folder (the one the database was built from).") var calib: String
    @Option(name: .shortAndLong, help: "Where to write the profile (JSON).") var output: String
    @OptionGroup var search: SearchArguments
    @OptionGroup var engine: EngineArguments

    func validate() throws {
        guard speedup.isFinite, speedup > 0 else { throw ValidationError("--speedup must be a positive number") }
    }

    func run() throws {
        let graph = try model.loadGraph()
        let calibration = try CalibrationSet(directory: calib, graph: graph)
        let database = try ReconstructionDatabase.open(directory: db)
        try database.require(pattern: nil, for: "spdy search")
        let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
        let table = try PipelineSupport.loadTable(timings)
        let run = try PipelineRun(graph: graph, modelPath: model.model, calibration: calibration, folder: folder,
                                  settings: .init(threads: engine.threads, batch: table.batch ?? 1, sparsePolicy: engine.options.sparseKernels,
                                                  method: .exact, seed: search.seed, lossKind: search.lossKind,
                                                  searchCandidates: search.candidates, searchPatience: search.patience,
                                                  searchSamples: search.searchSamples, reusePasses: !search.fullPasses, timingRepetitions: 5, timingRounds: 2,
                                                  exclusions: search.exclusions))
        _ = try PipelineSupport.loadTable(timings, layers: run.layers)
        try database.validate(against: graph, layers: run.layers)
        guard database.manifest.calibrationFingerprint == calibration.fingerprint else {
            throw CLIError("\(db) was built from another calibration set than \(calib)")
        }
        let oracle = try run.lossOracle(database: database)
        let profile = try run.search(target: speedup, table: table, oracle: oracle, profileFile: output)
        print(ProfileReport.text(profile, table: table, excluded: run.excluded))
    }
}

/// `spdy apply MODEL --db DB --profile P -o pruned.onnx [--gap --calib DIR]` (an N:M database needs no profile).
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Write the model pruned to a profile, with the database's reconstructed weights, as ONNX.",
        discussion: "A database built with --pattern N:M needs no --profile: every layer in it is applied at its pattern. With --gap the stitched model is fine-tuned by global AdaPrune on --calib before it is written; gAP's state is saved beside the output (OUTPUT.gap-state.safetensors) after every epoch and a rerun resumes from it.")

    @OptionGroup var model: ModelOptions
    @Option(help: "The reconstruction database folder.") var db: String
    @Option(help: "The profile (JSON, or the reference's `<sparsity> <layer>` text); not needed with an N:M database.") var profile: String?
    @Option(name: .shortAndLong, help: "The pruned ONNX file.") var output: String
    @OptionGroup var gap: GlobalAdaPruneArguments
    @Option(help: "Calibration folder for --gap.") var calib: String?
    @Option(help: "Held-out folder: report loss and accuracy of the dense and pruned models (before and after --gap).") var eval: String?
    @Option(help: "Threads for --gap and --eval.") var threads: Int = 1

    func validate() throws {
        if gap.gap && calib == nil { throw ValidationError("--gap needs --calib") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let graph = try model.loadGraph()
        let database = try ReconstructionDatabase.open(directory: db)
        let layers = try PipelineSupport.prunableLayers(graph, shapes: try model.inputShapes(for: graph))
        try database.validate(against: graph, layers: layers)
        let parsed: Profile
        if let profile {
            parsed = try PipelineSupport.loadProfile(profile, grid: database.manifest.grid)
        } else if let pattern = database.manifest.pattern {
            parsed = Profile(grid: pattern.grid, levels: database.manifest.layers.map { (LayerID($0), SparsityLevel(1)) },
                             method: "\(pattern)-\(database.manifest.method)")
        } else {
            throw CLIError("\(db) holds unstructured levels: --profile is needed (only an N:M database applies without one)")
        }
        var pruned = try Stitcher.stitch(graph, profile: parsed, database: database)
        var evaluator = ModelEvaluator()
        evaluator.options.threads = threads
        let heldOut = try eval.map { try HeldOutSet(directory: $0, graph: graph, evaluator: evaluator) }
        func report(_ name: String, _ model: Graph) throws {
            guard let result = try heldOut?.evaluate(model) else { return }
            print(String(format: "held-out %@: loss %.4f", name, result.loss) + (result.accuracy.map { String(format: ", accuracy %.2f%%", 100 * $0) } ?? "")
                  + (result.cosine.map { String(format: ", cosine %.5f", $0) } ?? ""))
        }
        try report("dense", graph)
        try report("pruned", pruned)
        if gap.gap, let calib {
            let calibration = try CalibrationSet(directory: calib, graph: graph)
            pruned = try gap.run(dense: graph, sparse: pruned, layers: layers, calibration: calibration, threads: threads,
                                 stateFile: URL(fileURLWithPath: output + ".gap-state.safetensors"), label: output)
            try report("pruned + gAP", pruned)
        }
        try ONNXModel.write(pruned, to: URL(fileURLWithPath: output))
        var zeros = 0, total = 0
        for layer in layers {
            let w = try Stitcher.weight(layer.id, in: pruned).floats
            zeros += w.filter { $0 == 0 }.count
            total += w.count
        }
        print(String(format: "%@: %d of %d prunable weights are zero (%.1f%%)", output, zeros, total, 100 * Double(zeros) / Double(max(total, 1))))
    }
}
