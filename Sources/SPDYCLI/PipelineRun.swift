import Foundation
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYONNX
import SPDYPruning
import SPDYTensor
import SPDYTiming

/// The SPDY pipeline over one working folder: every stage reads and writes plain files there
/// (`timings.json`, `database/`, `search-<X>x.state.json`, profiles, pruned models) and is skipped
/// when its file is present and fits, so an interrupted run resumes where it stopped.
final class PipelineRun {
    /// Settings of a run.
    struct Settings {
        var threads: Int
        var batch: Int
        var sparsePolicy: SparseKernelPolicy
        var method: DatabaseBuilder.Method
        var seed: UInt64
        var lossKind: LossKind?
        var searchCandidates: Int
        var searchPatience: Int
        var searchSamples: Int?
        var reusePasses: Bool
        var timingRepetitions: Int
        var timingRounds: Int
        var exclusions: [String]?
    }

    let graph: Graph
    let modelPath: String
    let calibration: CalibrationSet
    let folder: String
    let settings: Settings
    let shapes: [String: [Int]]
    let layers: [PrunableLayer]
    let excluded: Set<LayerID>
    var progress = ProgressLine()

    var engineOptions: EngineOptions { EngineOptions(threads: settings.threads, sparseKernels: settings.sparsePolicy) }

    init(graph: Graph, modelPath: String, calibration: CalibrationSet, folder: String, settings: Settings) throws {
        self.graph = graph
        self.modelPath = modelPath
        self.calibration = calibration
        self.folder = folder
        self.settings = settings
        shapes = calibration.shapes(batch: settings.batch)
        layers = try PipelineSupport.prunableLayers(graph, shapes: shapes)
        guard !layers.isEmpty else { throw CLIError("\(modelPath): no prunable layer (Conv, or Gemm/MatMul with a constant weight)") }
        let names = Set(layers.map(\.id))
        let chosen = settings.exclusions ?? PipelineSupport.defaultExclusions(layers)
        for name in chosen where !names.contains(name) {
            throw CLIError("--exclude \(name): not a prunable layer of \(modelPath) (see `spdy inspect`)")
        }
        excluded = Set(chosen.map(LayerID.init(_:)))
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { URL(fileURLWithPath: folder).appendingPathComponent(name).path }

    // MARK: Stage 1: timings (Algorithm 2)

    /// The timing table in the folder, measured when missing.
    func timings() throws -> TimingTable {
        let file = path("timings.json")
        if FileManager.default.fileExists(atPath: file) {
            let table = try PipelineSupport.loadTable(file, layers: layers)
            guard table.engine == "swift-spdy", table.batch == settings.batch, table.threads == settings.threads else {
                throw CLIError("\(file) was measured on \(table.engine) at batch \(table.batch ?? 0), \(table.threads ?? 0) threads; this run asks for swift-spdy at batch \(settings.batch), \(settings.threads) threads: remove it or use another folder")
            }
            let machine = PipelineSupport.machineDescription()
            if let measured = table.machine, measured != machine {
                throw CLIError("\(file) was measured on \"\(measured)\"; this engine is \"\(machine)\" (other kernels or another CPU take other times): remove the folder's timings.json, search-*.json and profile-*.json, or use another folder")
            }
            printError("timings: reusing \(file)")
            return table
        }
        let feeds = SyntheticInputs.make(for: graph, shapes: shapes)
        let timer = EngineTimer(graph: graph, inputShapes: shapes, feeds: feeds, options: engineOptions,
                                repetitions: settings.timingRepetitions, rounds: settings.timingRounds)
        let start = Date()
        let contention = CPUContention()
        let table = try timer.collect(machine: PipelineSupport.machineDescription(), source: modelPath) { done, total in
            progress.update("timings: \(done)/\(total) level sweeps", fraction: Double(done) / Double(total))
        }
        try PipelineSupport.write(try PipelineSupport.json(table), to: file)
        progress.finish(String(format: "timings: %d layers × %d levels in %.0f s, dense %.3f ms, overhead %.3f ms → %@",
                               table.layers.count, table.grid.count, Date().timeIntervalSince(start),
                               table.baseSeconds * 1e3, table.overheadSeconds * 1e3, file))
        if let warning = contention.warning() { printError("\(warning) (remove \(file) and run again)") }
        return table
    }

    // MARK: Stage 2: reconstruction database (Algorithm 3)

    /// The database of the searched layers in the folder, built (or finished) when incomplete.
    func database() throws -> ReconstructionDatabase {
        // Excluded layers stay dense: no need to build their levels.
        let searched = layers.filter { !excluded.contains(LayerID($0.id)) }
        let builder = DatabaseBuilder(graph: graph, modelPath: modelPath, layers: searched, calibration: calibration,
                                      method: settings.method, threads: settings.threads, seed: settings.seed)
        return try Self.buildDatabase(builder, directory: path("database"), progress: &progress)
    }

    /// Builds `builder`'s database with progress output.
    static func buildDatabase(_ builder: DatabaseBuilder, directory: String, progress: inout ProgressLine) throws -> ReconstructionDatabase {
        let start = Date()
        var skipped = 0
        let database = try builder.build(directory: directory) { event in
            switch event {
            case .skipped:
                skipped += 1
            case let .capturing(count, samples, total):
                progress.update("database: capturing the inputs of \(count) layers: \(samples)/\(total) samples",
                                fraction: Double(samples) / Double(total))
            case let .built(layer, index, total, seconds, errors):
                if let pattern = builder.pattern {
                    progress.finish(String(format: "database: %d/%d %@ (%.1f s): error %.4f at %@", index, total, layer, seconds,
                                           errors[1], pattern.description))
                    return
                }
                let grid = builder.grid
                let at = [0.5, 0.9].map { s in grid.sparsities.firstIndex { $0 >= s } ?? grid.count - 1 }
                progress.finish(String(format: "database: %d/%d %@ (%.1f s): error %.4f at %.0f%%, %.4f at %.0f%%",
                                       index, total, layer, seconds, errors[at[0]], 100 * grid.sparsities[at[0]],
                                       errors[at[1]], 100 * grid.sparsities[at[1]]))
            }
        }
        if skipped > 0 { printError("database: \(skipped) layer(s) were already built (resumed)") }
        printError(String(format: "database: %@ ready (%.0f s)", directory, Date().timeIntervalSince(start)))
        return database
    }

    // MARK: Stage 3: search (Algorithms 1 and 4)

    /// The loss oracle on the calibration set (or its first `searchSamples`).
    func lossOracle(database: ReconstructionDatabase) throws -> CalibrationLoss {
        let set = settings.searchSamples.map { calibration.prefix($0) } ?? calibration
        let kind = settings.lossKind ?? LossKind.automatic(graph: graph, labelled: set.labels != nil)
        return try CalibrationLoss(graph: graph, database: database, calibration: set, kind: kind,
                                   evaluator: ModelEvaluator(batchSize: ModelEvaluator.batchSize(for: set), options: engineOptions),
                                   reusePasses: settings.reusePasses)
    }

    /// The SPDY profile for `target`, searched (and saved, resumably) when missing.
    func search(target: Double, table: TimingTable, oracle: CalibrationLoss, profileFile: String? = nil) throws -> Profile {
        let name = String(format: "%gx", target)
        let profileFile = profileFile ?? path("profile-spdy-\(name).json")
        let stateFile = profileFile.hasSuffix(".json") ? String(profileFile.dropLast(5)) + ".state.json" : profileFile + ".state.json"
        if let data = FileManager.default.contents(atPath: profileFile) {
            printError("search \(name): reusing \(profileFile)")
            return try Profile.decodeJSON(data, file: profileFile)
        }
        let problem = try SolverProblem.refining(table: table, speedup: target, excluding: excluded)
        let configuration = SensitivitySearch.Configuration(seed: settings.seed, initialCandidates: settings.searchCandidates,
                                                            patience: settings.searchPatience)
        let search = SensitivitySearch(problem: problem, configuration: configuration)
        var state: SearchState? = nil
        if let data = FileManager.default.contents(atPath: stateFile) {
            state = try SearchState.decodeJSON(data)
            printError("search \(name): resuming after \(state!.statistics.oracleEvaluations) evaluations")
        }
        let start = Date()
        while true {
            let outcome = try search.run(oracle: oracle, resuming: state, evaluationLimit: 25) { p in
                let phase: String
                switch p.phase {
                case .random(let done): phase = "random \(done)/\(configuration.initialCandidates)"
                case let .local(k, failures): phase = "local k=\(k) (\(failures)/\(configuration.patience) without gain)"
                case .finished: phase = "finished"
                }
                progress.update(String(format: "search %@: %@, %d evaluations, best loss %.5f", name, phase,
                                       p.statistics.oracleEvaluations, p.bestLoss ?? .nan), fraction: 0)
            }
            state = outcome.state
            try PipelineSupport.write(outcome.state.encodeJSON(), to: stateFile)
            if outcome.isFinished {
                guard var best = outcome.best else { throw CLIError("search \(name): no candidate was evaluated") }
                best.method = "spdy"
                try PipelineSupport.write(best.encodeJSON(), to: profileFile)
                progress.finish(String(format: "search %@: %d candidates, %d evaluations in %.0f s, loss %.5f, predicted %.3f×",
                                       name, outcome.state.statistics.candidates, outcome.state.statistics.oracleEvaluations,
                                       Date().timeIntervalSince(start), best.loss ?? .nan, best.predictedSpeedup ?? .nan))
                if let reuse = oracle.reuse, reuse.statistics.evaluations > 0 {
                    let s = reuse.statistics
                    printError(String(format: "search %@: %d of %d passes reused an earlier one, skipping %.0f%% of the nodes on average",
                                      name, s.reused, s.evaluations, 100 * s.skippedFraction / Double(s.evaluations)))
                }
                return best
            }
        }
    }

    // MARK: Baselines

    /// Uniform and global-magnitude profiles at `target`, reconstructed from the same database
    /// (`nil` where a baseline cannot reach the target, with the reason).
    func baselines(target: Double, table: TimingTable) -> [(method: String, profile: Profile?, note: String?)] {
        var result: [(String, Profile?, String?)] = []
        do {
            result.append(("uniform", try UniformBaseline.profile(table: table, speedup: target, excluding: excluded), nil))
        } catch { result.append(("uniform", nil, "\(error)")) }
        var statistics: [LayerID: any MagnitudeStatistics] = [:]
        for layer in layers {
            if let weight = try? Stitcher.weight(layer.id, in: graph) { statistics[LayerID(layer.id)] = SortedMagnitudes(weights: weight.floats) }
        }
        do {
            let (profile, _) = try GlobalMagnitudeBaseline.profile(table: table, statistics: statistics, speedup: target, excluding: excluded)
            result.append(("global-magnitude", profile, nil))
        } catch { result.append(("global-magnitude", nil, "\(error)")) }
        return result
    }
}
