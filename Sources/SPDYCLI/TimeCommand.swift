import ArgumentParser
import Foundation
import SPDYCore
import SPDYTiming

/// `spdy time MODEL --batch B --threads T -o timings.json`: Algorithm 2 on our engine.
struct TimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "time",
        abstract: "Measure every prunable layer at every sparsity level on the engine (timing table, Algorithm 2).",
        discussion: """
            Compiles the model once per level with every prunable layer magnitude-pruned to that level and \
            records each layer's step time inside the whole model (its real kernel, fused epilogue and \
            neighbours), median over repetitions and rounds. Writes the JSON table of \
            docs/formats-timing-profile.md with engine, batch, threads and machine.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var engine: EngineArguments

    @Option(name: .shortAndLong, help: "Where to write the timing table (JSON).")
    var output: String

    @Option(name: .customLong("engine"), help: "The engine to time: swift-spdy (ours, inside the whole model), onnxruntime or deepsparse (one-node models through scripts/python/time_layers.py; DeepSparse from .venv-deepsparse).")
    var backend: String = "swift-spdy"

    @Option(help: "Untimed runs per level and round.")
    var warmup: Int = 2

    @Option(help: "Timed runs per level and round.")
    var repetitions: Int = 2

    @Option(help: "Sweeps over all levels (alternating direction).")
    var rounds: Int = 5

    func validate() throws {
        if warmup < 0 || repetitions < 1 || rounds < 1 { throw ValidationError("--warmup ≥ 0, --repetitions ≥ 1, --rounds ≥ 1") }
        if backend != "swift-spdy" && !ExternalTiming.engines.contains(backend) {
            throw ValidationError("--engine expects swift-spdy, onnxruntime or deepsparse, got '\(backend)'")
        }
    }

    func run() throws {
        #if DEBUG
        printError("warning: this spdy is a debug build; timings are not representative (build with -c release)")
        #endif
        let graph = try model.loadGraph()
        let shapes = try model.inputShapes(for: graph)
        var progress = ProgressLine()
        let table: TimingTable
        let contention = CPUContention()
        defer { if let warning = contention.warning() { printError(warning) } }
        if backend == "swift-spdy" {
            let timer = EngineTimer(graph: graph, inputShapes: shapes, feeds: SyntheticInputs.make(for: graph, shapes: shapes),
                                    options: engine.options, warmup: warmup, repetitions: repetitions, rounds: rounds)
            table = try timer.collect(machine: PipelineSupport.machineDescription(), source: model.model) { done, total in
                progress.update("timing: \(done)/\(total) level sweeps", fraction: Double(done) / Double(total))
            }
        } else {
            printError("timing every layer at \(SparsityGrid.standard.count) levels on \(backend) …")
            table = try ExternalTiming.table(engine: backend, modelPath: model.model, graph: graph, shapes: shapes,
                                             threads: engine.threads, grid: .standard, warmup: warmup,
                                             repetitions: repetitions * rounds)
        }
        try PipelineSupport.write(try PipelineSupport.json(table), to: output)
        progress.finish(String(format: "%d layers × %d levels; dense %.3f ms (overhead %.3f ms); written to %@",
                               table.layers.count, table.grid.count, table.baseSeconds * 1e3, table.overheadSeconds * 1e3, output))
        var text = TextTable(columns: ["layer", "dense ms", "50% ms", "80% ms", "90% ms", "95% ms", "best speedup"])
        let grid = table.grid
        let picks = [0.5, 0.8, 0.9, 0.95].map { s in grid.sparsities.firstIndex { $0 >= s - 1e-9 } ?? grid.count - 1 }
        for layer in table.layers {
            let dense = layer.denseSeconds
            let times = picks.map { layer.seconds(at: SparsityLevel($0)).map { String(format: "%.4f", $0 * 1e3) } ?? "-" }
            let best = layer.levels.compactMap { $0?.seconds }.min() ?? dense
            text.add([layer.layer.name, String(format: "%.4f", dense * 1e3)] + times + [String(format: "%.2f×", dense / best)])
        }
        print(text.render())
    }
}
