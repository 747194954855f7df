import Foundation
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYTensor

/// Timing tables on an external engine (ONNX Runtime, DeepSparse 1.8) through
/// scripts/python/time_layers.py: every prunable layer as a one-node model at the deployment input
/// shape, its weight magnitude-pruned to every level, timed on the engine; the whole dense model
/// for the base time. Layers keep their names (the weights' initializer names), so the table
/// drives `spdy search` and `spdy solve` like one of ours.
enum ExternalTiming {
    /// Engines with a timing helper.
    static let engines = ["onnxruntime", "deepsparse"]

    static func table(engine: String, modelPath: String, graph: Graph, shapes: [String: [Int]], threads: Int,
                      grid: SparsityGrid, warmup: Int, repetitions: Int) throws -> TimingTable {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelPath, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIError("--engine \(engine) needs an ONNX file; \(modelPath) is a folder (write it as ONNX first, e.g. with `spdy apply`)")
        }
        let analysis = try StaticAnalysis(graph, inputShapes: shapes)
        let layers = PrunableLayer.discover(in: graph, analysis: analysis)
        guard !layers.isEmpty else { throw CLIError("\(modelPath): no prunable layer") }
        struct Entry: Encodable { var layer: String; var node: String; var input_shape: [Int] }
        let spec = try layers.map { layer -> Entry in
            guard let type = analysis.values[layer.input]?.type else { throw CLIError("layer '\(layer.id)': input shape unknown") }
            return Entry(layer: layer.id, node: layer.node, input_shape: type.shape)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spdy-time-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let specFile = directory.appendingPathComponent("spec.json")
        try JSONEncoder().encode(spec).write(to: specFile)
        let inputs = directory.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        for (name, tensor) in SyntheticInputs.make(for: graph, shapes: shapes) {
            try NPY.write(tensor, to: inputs.appendingPathComponent("\(name).npy"))
        }
        let output = try PythonEnvironment.run([
            try PythonEnvironment.script("time_layers.py"), "--engine", engine, "--model", modelPath, "--spec", specFile.path,
            "--inputs", inputs.path, "--threads", String(threads), "--warmup", String(warmup),
            "--repetitions", String(repetitions), "--sparsities", grid.sparsities.map { String($0) }.joined(separator: ","),
        ])
        struct Result: Decodable {
            var error: String?
            var version: String?
            var base_ms: [Double]?
            var layers: [String: [[Double]]]?
        }
        guard let line = output.split(separator: "\n").last,
              let result = try? JSONDecoder().decode(Result.self, from: Data(line.utf8)) else {
            throw CLIError("time_layers.py printed no result: \(output.suffix(400))")
        }
        if let error = result.error { throw CLIError("\(engine): \(error)") }
        guard let base = result.base_ms, !base.isEmpty, let measured = result.layers else { throw CLIError("\(engine): empty result") }
        var timings: [LayerTiming] = []
        for layer in layers {
            guard let levels = measured[layer.id], levels.count == grid.count, levels.allSatisfy({ !$0.isEmpty }) else {
                throw CLIError("\(engine): no times for layer '\(layer.id)' at every level")
            }
            timings.append(LayerTiming(layer: LayerID(layer.id), levels: levels.map { samples in
                let stats = LatencyStatistics(samples: samples)
                return LevelTiming(seconds: stats.median / 1e3, spread: stats.relativeSpread * stats.median / 1e3)
            }))
        }
        let baseStats = LatencyStatistics(samples: base)
        let prunable = timings.reduce(0) { $0 + $1.denseSeconds }
        // One-node models lose the fusions of the whole model: their sum can exceed the model's
        // own time, in which case nothing is left for the overhead.
        let overhead = max(0, baseStats.median / 1e3 - prunable)
        return try TimingTable(engine: "\(engine) \(result.version ?? "")".trimmingCharacters(in: .whitespaces),
                               batch: shapes.values.first?.first, threads: threads, machine: PipelineSupport.machineDescription(),
                               grid: grid, baseSeconds: baseStats.median / 1e3, overheadSeconds: overhead,
                               baseSpread: baseStats.relativeSpread * baseStats.median / 1e3, layers: timings, source: modelPath)
    }
}
