import ArgumentParser
import Foundation
import SPDYEngine
import SPDYGraph
import SPDYTensor
import SPDYTiming

/// `spdy bench`: models (the default) or kernels.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure models or kernels.",
        subcommands: [BenchModelCommand.self, BenchKernelsCommand.self], defaultSubcommand: BenchModelCommand.self)
}

/// `spdy bench MODEL [MODEL2] --batch B --threads T`: latency and throughput on our engine
/// (median and spread over repetitions after warm-up), optionally next to ONNX Runtime on the
/// same inputs and threads; with two models, their ratio measured interleaved.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Measure a model's latency and throughput on the engine (and ONNX Runtime).")

    @OptionGroup var model: ModelOptions

    @Argument(help: "A second model to compare against the first (e.g. pruned vs dense), measured interleaved.")
    var second: String?

    @OptionGroup var engine: EngineArguments

    @Option(help: "Same as the second positional model.")
    var against: String?

    @Option(help: "Untimed runs before measuring.")
    var warmup: Int = 3

    @Option(help: "Timed runs per model and round (3 rounds); with a second model, the same number of runs in interleaved rounds of two.")
    var repetitions: Int = 10

    @Option(help: "Also time this engine on the same inputs and threads: onnxruntime, deepsparse (1.8, in .venv-deepsparse made by scripts/bootstrap_deepsparse.sh).")
    var compare: [String] = []

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Also print where the time goes: per-kernel totals over the timed runs of the first model.")
    var profile = false

    @Flag(help: "Also print every step of the first model: node, kernel, median milliseconds.")
    var steps = false

    func validate() throws {
        if second != nil && against != nil { throw ValidationError("give the second model once: positionally or with --against") }
        if repetitions < 1 { throw ValidationError("--repetitions must be at least 1") }
        for c in compare where ExternalEngineBench.scripts[c] == nil {
            throw ValidationError("--compare supports \(ExternalEngineBench.scripts.keys.sorted().joined(separator: ", ")), got '\(c)'")
        }
    }

    struct Measurement: Encodable {
        var model: String
        var engine: String
        var batch: Int
        var threads: Int
        var medianMs: Double
        var minMs: Double
        var relativeSpread: Double
        var samplesPerSecond: Double
        var samplesMs: [Double]
    }

    struct Report: Encodable {
        var measurements: [Measurement]
        /// Per model on our engine: how many Conv/Linear layers run on sparse and dense kernels.
        var kernels: [String: String]
        var ratios: [String: Double]
        var buildConfiguration: String
    }

    func run() throws {
        #if DEBUG
        FileHandle.standardError.write(Data("warning: this spdy is a debug build; timings are not representative (build with -c release)\n".utf8))
        #endif
        let graph = try model.loadGraph()
        let shapes = try model.inputShapes(for: graph)
        let batch = shapes.values.first?.first ?? 1
        let feeds = SyntheticInputs.make(for: graph, shapes: shapes)
        let plan = try ExecutionPlan(graph: graph, inputShapes: shapes, options: engine.options)
        _ = try plan.run(feeds)
        var planB: ExecutionPlan? = nil
        let against = self.second ?? self.against
        if let other = against {
            let g = try ModelLoader.load(path: other)
            planB = try ExecutionPlan(graph: g, inputShapes: shapes, options: engine.options)
            _ = try planB!.run(feeds)
        }
        // Interleaved rounds (paired per round, see SpeedupMeasurement) so drift on a shared
        // machine hits both alike; the ratio is the median of the per-round ratios.
        let rounds = 3
        var samplesA: [Double], samplesB: [Double] = []
        var ratios: [String: Double] = [:]
        if let b = planB, let other = against {
            let timing = SpeedupMeasurement(feeds: feeds, inputShapes: shapes, options: engine.options, warmup: 1,
                                            repetitions: 2, rounds: max(rounds * repetitions / 2, 3), minimumSeconds: 2)
            let results = try timing.measure(plans: [plan, b])
            samplesA = results[0].samplesMs
            samplesB = results[1].samplesMs
            ratios["speedup \(other) vs \(model.model)"] = results[1].speedup
        } else {
            samplesA = try LatencyStatistics.measure(warmup: warmup, repetitions: repetitions * rounds) { try plan.rerun() }.samples
        }
        var measurements = [measurement(model.model, "swift-spdy", batch, samplesA)]
        if let other = against { measurements.append(measurement(other, "swift-spdy", batch, samplesB)) }
        for engineName in compare {
            var external: [String: Measurement] = [:]
            for path in [model.model] + (against.map { [$0] } ?? []) {
                guard !path.hasSuffix("/"), !isDirectory(path) else {
                    throw CLIError("--compare \(engineName) needs an ONNX file; \(path) is a folder (export it first)")
                }
                let samples = try ExternalEngineBench.run(engine: engineName, model: path, feeds: feeds, threads: engine.threads,
                                                          warmup: warmup, repetitions: repetitions * rounds)
                let m = measurement(path, engineName, batch, samples)
                measurements.append(m)
                external[path] = m
                let ours = measurements.first { $0.model == path && $0.engine == "swift-spdy" }!
                ratios["\(engineName)/swift-spdy latency \(path)"] = m.medianMs / ours.medianMs
            }
            if let other = against, let a = external[model.model], let b = external[other] {
                ratios["\(engineName) speedup \(other) vs \(model.model)"] = a.medianMs / b.medianMs
            }
        }
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        if profile { try printProfile(plan, feeds) }
        if steps { try printSteps(plan, feeds) }
        var kernels = [model.model: Self.kernelSummary(plan)]
        if let other = against, let b = planB { kernels[other] = Self.kernelSummary(b) }
        let report = Report(measurements: measurements, kernels: kernels, ratios: ratios, buildConfiguration: configuration)
        if json {
            print(try JSONOutput.string(report))
            return
        }
        var table = TextTable(columns: ["model", "engine", "batch", "threads", "median ms", "min ms", "spread", "samples/s"])
        for m in measurements {
            table.add([m.model, m.engine, String(m.batch), String(m.threads), String(format: "%.3f", m.medianMs),
                       String(format: "%.3f", m.minMs), String(format: "±%.1f%%", 100 * m.relativeSpread),
                       String(format: "%.1f", m.samplesPerSecond)])
        }
        print(table.render())
        for (path, summary) in kernels.sorted(by: { $0.key < $1.key }) { print("kernels \(path): \(summary)") }
        for (k, v) in ratios.sorted(by: { $0.key < $1.key }) { print(String(format: "%@: %.3f×", k, v)) }
    }

    /// "12 sparse (direct 4, direct/s2 2, linear 6), 41 dense": the kernel choice for prunable layers.
    static func kernelSummary(_ plan: ExecutionPlan) -> String {
        var sparse: [String: Int] = [:], dense = 0
        for step in plan.stepDescriptions where step.kernel.hasPrefix("Conv") || step.kernel.hasPrefix("Linear") {
            if let word = step.kernel.split(separator: " ").first(where: { $0.hasPrefix("sparse") }) {
                let kind = word == "sparse" ? "linear" : String(word.dropFirst("sparse-".count))
                sparse[kind, default: 0] += 1
            } else {
                dense += 1
            }
        }
        let total = sparse.values.reduce(0, +)
        let detail = sparse.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(total) sparse" + (total > 0 ? " (\(detail))" : "") + ", \(dense) dense"
    }

    private func measurement(_ path: String, _ engineName: String, _ batch: Int, _ samples: [Double]) -> Measurement {
        let stats = LatencyStatistics(samples: samples)
        return Measurement(model: path, engine: engineName, batch: batch, threads: engine.threads, medianMs: stats.median,
                           minMs: stats.minimum, relativeSpread: stats.relativeSpread,
                           samplesPerSecond: Double(batch) / (stats.median / 1000), samplesMs: samples)
    }

    /// Per-kernel-kind time shares over `repetitions` runs (to stderr when printing JSON).
    private func printProfile(_ plan: ExecutionPlan, _ feeds: [String: Tensor]) throws {
        var timings: [UInt64] = []
        for _ in 0..<repetitions { _ = try plan.run(feeds, timings: &timings) }
        var byKind: [String: UInt64] = [:]
        for (i, step) in plan.stepDescriptions.enumerated() {
            let kind = step.kernel.split(separator: " ").prefix(2).joined(separator: " ")
            byKind[kind, default: 0] += timings[i]
        }
        let total = Double(timings.reduce(0, +))
        var table = TextTable(columns: ["kernel", "ms/run", "share"])
        for (kind, ns) in byKind.sorted(by: { $0.value > $1.value }) {
            table.add([kind, String(format: "%.3f", Double(ns) / 1e6 / Double(repetitions)),
                       String(format: "%.1f%%", 100 * Double(ns) / total)])
        }
        let text = table.render() + "\n"
        if json { FileHandle.standardError.write(Data(text.utf8)) } else { print(text) }
    }

    /// Per-step median times over `repetitions` runs (to stderr when printing JSON).
    private func printSteps(_ plan: ExecutionPlan, _ feeds: [String: Tensor]) throws {
        let descriptions = plan.stepDescriptions
        var samples = [[Double]](repeating: [], count: descriptions.count)
        for _ in 0..<max(repetitions, 5) {
            var timings: [UInt64] = []
            _ = try plan.run(feeds, timings: &timings)
            for i in timings.indices { samples[i].append(Double(timings[i]) / 1e6) }
        }
        var table = TextTable(columns: ["step", "node", "kernel", "median ms", "min ms"])
        var total = 0.0, totalMin = 0.0
        for (i, step) in descriptions.enumerated() {
            let statistics = LatencyStatistics(samples: samples[i])
            total += statistics.median
            totalMin += statistics.minimum
            table.add([String(i), step.node, step.kernel, String(format: "%.4f", statistics.median), String(format: "%.4f", statistics.minimum)])
        }
        let text = table.render() + String(format: "\nsum of step medians: %.3f ms, of step minima: %.3f ms\n", total, totalMin)
        if json { FileHandle.standardError.write(Data(text.utf8)) } else { print(text) }
    }

    private func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }
}
