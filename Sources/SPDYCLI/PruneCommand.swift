import ArgumentParser
import Foundation
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYPruning
import SPDYTiming

/// Options of a whole pipeline run (prune, demo).
struct PipelineArguments: ParsableArguments {
    /// The deployment batch size (from the model options' --batch, or the demo's).
    var batch = 64

    @Option(help: "Threads of the engine (timings, database, search, measurement).")
    var threads: Int = 2

    @Option(help: "Reconstruction method: exact or adaprune.")
    var method: String = "exact"

    @Option(help: "Held-out folder (same layout as the calibration folder) to score the pruned models on.")
    var eval: String?

    @Option(help: "Timed runs per level and round when measuring the timing table.")
    var timingRepetitions: Int = 2

    @Option(help: "Sweeps over the levels when measuring the timing table.")
    var timingRounds: Int = 5

    @Option(help: "Interleaved rounds (at least) when measuring the end-to-end speedups; each runs every model once untimed and twice timed.")
    var measureRounds: Int = 21

    @Option(help: "Keep adding measurement rounds until this many seconds have passed (small models get more rounds).")
    var measureSeconds: Double = 4

    @Flag(help: "Skip the uniform and global-magnitude baselines.")
    var noBaselines = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if DatabaseBuilder.Method(rawValue: method) == nil { throw ValidationError("--method expects exact or adaprune") }
        if timingRepetitions < 1 || timingRounds < 1 || measureRounds < 1 || measureSeconds < 0 { throw ValidationError("repetitions and rounds must be at least 1") }
    }
}

/// `spdy prune MODEL --calib DIR --speedup X -o OUT` (or `--pattern N:M`): every stage, with
/// progress and resumable state.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a model to a speedup target: timings, reconstruction database, search, pruned ONNX, measured speedup, report.",
        discussion: """
            Every stage writes its files into the output folder and is skipped when they are already there, \
            so an interrupted run resumes. Several --speedup targets share the timings and the database. \
            The uniform and global-magnitude baselines are reconstructed from the same database and measured \
            alike, so the comparison isolates the profile. With --gap every delivered model is also fine-tuned \
            by global AdaPrune on the calibration set (rows METHOD+gap, files pruned-METHOD-T-gap.onnx). \
            With --pattern N:M (2:4, 4:8) instead of --speedup there is no search: every prunable layer whose \
            input channels are a multiple of M is pruned to the pattern (the others stay dense, named), \
            reconstructed layer-wise in an N:M database (database-NofM/), and compared with the dense model and \
            the pattern by magnitude without reconstruction; --gap adds the gAP-fine-tuned model. No layer is \
            excluded by default (--exclude keeps layers dense).
            """)

    @OptionGroup var model: ModelOptions
    @Option(help: "Calibration folder: one .npy per model input (first axis = samples), optional labels.npy.") var calib: String
    @Option(parsing: .singleValue, help: "Target speedup over the dense model (repeatable).") var speedup: [Double] = []
    @Option(help: "N:M semi-structured sparsity instead of a speedup target: N of every M consecutive input-channel weights kept (2:4, 4:8).")
    var pattern: String?
    @Option(name: .shortAndLong, help: "Output folder.") var output: String
    @OptionGroup var pipeline: PipelineArguments
    @OptionGroup var search: SearchArguments
    @OptionGroup var gap: GlobalAdaPruneArguments

    func validate() throws {
        if let pattern {
            do { _ = try SparsityPattern(parsing: pattern) } catch { throw ValidationError("--pattern: \(error)") }
            guard speedup.isEmpty else { throw ValidationError("--pattern and --speedup exclude each other: an N:M run has no speed target") }
            return
        }
        guard !speedup.isEmpty else { throw ValidationError("give --speedup X (repeatable) or --pattern N:M") }
        guard speedup.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw ValidationError("--speedup must be a positive number") }
    }

    func run() throws {
        let graph = try model.loadGraph()
        let calibration = try CalibrationSet(directory: calib, graph: graph)
        var pipeline = self.pipeline
        pipeline.batch = model.batch ?? 64
        if let pattern {
            try Self.prune(graph: graph, modelPath: model.model, calibration: calibration, pattern: try SparsityPattern(parsing: pattern),
                           folder: output, pipeline: pipeline, search: search, gap: gap)
            return
        }
        try Self.prune(graph: graph, modelPath: model.model, calibration: calibration, targets: speedup, folder: output,
                       pipeline: pipeline, search: search, gap: gap)
    }

    /// The whole pipeline for `targets`; prints the comparison and writes the report.
    static func prune(graph: Graph, modelPath: String, calibration: CalibrationSet, targets: [Double], folder: String,
                      pipeline: PipelineArguments, search: SearchArguments, gap: GlobalAdaPruneArguments) throws {
        #if DEBUG
        printError("warning: this spdy is a debug build; timings are not representative (build with -c release)")
        #endif
        let settings = PipelineRun.Settings(
            threads: pipeline.threads, batch: pipeline.batch, sparsePolicy: .standard,
            method: DatabaseBuilder.Method(rawValue: pipeline.method)!, seed: search.seed, lossKind: search.lossKind,
            searchCandidates: search.candidates, searchPatience: search.patience, searchSamples: search.searchSamples,
            reusePasses: !search.fullPasses,
            timingRepetitions: pipeline.timingRepetitions, timingRounds: pipeline.timingRounds, exclusions: search.exclusions)
        let run = try PipelineRun(graph: graph, modelPath: modelPath, calibration: calibration, folder: folder, settings: settings)
        printError("model \(modelPath): \(run.layers.count) prunable layers, excluded: \(run.excluded.map(\.name).sorted().joined(separator: ", "))")
        let table = try run.timings()
        let database = try run.database()
        let oracle = try run.lossOracle(database: database)
        let (heldOut, measurement) = try evaluation(run: run, pipeline: pipeline)
        var rows: [MethodResult] = []
        var dense: MethodResult? = nil
        let methods = pipeline.noBaselines ? ["spdy"] : ["spdy", "uniform", "global-magnitude"]
        for target in targets {
            let comparison = try run.compare(target: target, table: table, database: database, oracle: oracle,
                                             heldOut: heldOut, measurement: measurement, methods: methods)
            dense = dense ?? comparison.dense
            rows += comparison.results
            if gap.gap { rows += try run.fineTune(comparison.results, gap: gap, oracle: oracle, heldOut: heldOut) }
            if comparison.dense == nil { printError("\(String(format: "%gx", target)): no method reaches this target (see above); continuing") }
        }
        let all = (dense.map { [$0] } ?? []) + rows
        print(ProfileReport.comparison(all))
        try PipelineSupport.write(try PipelineSupport.json(all), to: run.path("results.json"))
        guard let dense else {
            throw CLIError("no method produced a pruned model at \(targets.map { String(format: "%gx", $0) }.joined(separator: ", ")): every target is out of reach on this timing table (results.json lists the reasons)")
        }
        let settingsLine = "Batch \(pipeline.batch), \(pipeline.threads) threads, method \(pipeline.method), loss \(oracle.kind.rawValue) on \(oracle.calibration.sampleCount) calibration samples, search seed \(search.seed)."
        let report = try RunReport.write(folder: folder, model: modelPath, table: table, dense: dense, results: rows,
                                         excluded: run.excluded, settings: settingsLine)
        printError("report: \(report)")
    }

    /// The held-out set (with `--eval`) and the end-to-end speed measurement of a run.
    static func evaluation(run: PipelineRun, pipeline: PipelineArguments) throws -> (HeldOutSet?, SpeedupMeasurement) {
        let evaluator = ModelEvaluator(batchSize: ModelEvaluator.batchSize(for: run.calibration), options: run.engineOptions)
        let heldOut = try pipeline.eval.map { try HeldOutSet(directory: $0, graph: run.graph, evaluator: evaluator) }
        let shapes = run.calibration.shapes(batch: pipeline.batch)
        let measurement = SpeedupMeasurement(feeds: SyntheticInputs.make(for: run.graph, shapes: shapes), inputShapes: shapes,
                                             options: run.engineOptions, rounds: pipeline.measureRounds,
                                             minimumSeconds: pipeline.measureSeconds)
        return (heldOut, measurement)
    }

    /// `--pattern`: the N:M database, the dense / magnitude / reconstructed (/ gAP) comparison,
    /// results.json; no timing table and no search.
    static func prune(graph: Graph, modelPath: String, calibration: CalibrationSet, pattern: SparsityPattern, folder: String,
                      pipeline: PipelineArguments, search: SearchArguments, gap: GlobalAdaPruneArguments) throws {
        let settings = PipelineRun.Settings(
            threads: pipeline.threads, batch: pipeline.batch, sparsePolicy: .standard,
            method: DatabaseBuilder.Method(rawValue: pipeline.method)!, seed: search.seed, lossKind: search.lossKind,
            searchCandidates: search.candidates, searchPatience: search.patience, searchSamples: nil,
            reusePasses: false, timingRepetitions: pipeline.timingRepetitions, timingRounds: pipeline.timingRounds,
            exclusions: search.exclusions ?? [])
        let run = try PipelineRun(graph: graph, modelPath: modelPath, calibration: calibration, folder: folder, settings: settings)
        let (database, skipped) = try run.database(pattern: pattern)
        printError("model \(modelPath): \(database.manifest.layers.count) of \(run.layers.count) prunable layers at \(pattern)"
                   + (run.excluded.isEmpty ? "" : "; excluded: \(run.excluded.map(\.name).sorted().joined(separator: ", "))"))
        for (layer, reason) in skipped { printError("\(pattern): \(layer.id): \(reason)") }
        let oracle = try run.lossOracle(database: database)
        let (heldOut, measurement) = try evaluation(run: run, pipeline: pipeline)
        let rows = try run.prune(pattern: pattern, database: database, oracle: oracle, heldOut: heldOut,
                                 measurement: measurement, gap: gap)
        print(ProfileReport.comparison(rows))
        try PipelineSupport.write(try PipelineSupport.json(rows), to: run.path("results.json"))
        printError("results: \(run.path("results.json"))")
    }
}

/// `spdy demo`: the whole pipeline on the shipped MNIST ResNet.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole pipeline on the shipped demo ResNet (MNIST digits) at 1.25×, 1.5× and 1.75×, with the baselines.",
        discussion: "Needs the digit arrays that scripts/prepare_fixtures.sh writes (scripts/demo.sh does it).")

    @Option(help: "The demo model.") var model: String = "models/demo/mnist_resnet.onnx"
    @Option(help: "Folder with calib/ and test/ arrays.") var data: String = ".cache/fixtures/mnist"
    @Option(name: .shortAndLong, help: "Output folder.") var output: String = ".spdy-demo"
    @Option(help: "Targets, comma-separated.") var speedups: String = "1.25,1.5,1.75"
    @Option(help: "Deployment batch size: timings and the measured speedups use it.") var batch: Int = 64
    @OptionGroup var pipeline: PipelineArguments
    @OptionGroup var search: SearchArguments
    @OptionGroup var gap: GlobalAdaPruneArguments

    func run() throws {
        let targets = speedups.split(separator: ",").compactMap { Double($0) }
        guard !targets.isEmpty else { throw ValidationError("--speedups expects numbers, e.g. 1.5,2,3") }
        let graph = try ModelLoader.load(path: model)
        let calibration = try CalibrationSet(directory: URL(fileURLWithPath: data).appendingPathComponent("calib").path, graph: graph)
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        var pipeline = self.pipeline
        pipeline.batch = batch
        if pipeline.eval == nil { pipeline.eval = URL(fileURLWithPath: data).appendingPathComponent("test").path }
        try PruneCommand.prune(graph: graph, modelPath: model, calibration: calibration, targets: targets, folder: output,
                               pipeline: pipeline, search: search, gap: gap)
    }
}
