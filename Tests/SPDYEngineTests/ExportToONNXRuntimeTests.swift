import Foundation
import Testing
import SPDYEngine
import SPDYGraph
import SPDYONNX
import SPDYTensor

/// Models we write are models ONNX Runtime runs: export (with zeroed weights, as a pruned model
/// has), run both engines on the same inputs, compare.
@Suite("Exported models run in ONNX Runtime", .serialized)
struct ExportToONNXRuntimeTests {
    static var python: String {
        ProcessInfo.processInfo.environment["SPDY_PYTHON"]
            ?? ReferenceFixture.repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// Runs `model` in ONNX Runtime on `feeds`; returns its outputs by name.
    func onnxRuntime(_ model: URL, _ feeds: [String: Tensor], in directory: URL) throws -> [String: Tensor] {
        for (name, t) in feeds { try NPY.write(t, to: directory.appendingPathComponent("\(name).npy")) }
        let outputs = directory.appendingPathComponent("ort-out")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [ReferenceFixture.repositoryRoot.appendingPathComponent("scripts/python/ort_bench.py").path,
                             "--model", model.path, "--inputs", directory.path, "--warmup", "0", "--repetitions", "1",
                             "--outputs", outputs.path, "--no-optimizations"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "ort_bench.py failed: \(String(decoding: message, as: UTF8.self))")
        var result: [String: Tensor] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: outputs.path) where file.hasSuffix(".npy") {
            result[String(file.dropLast(4))] = try NPY.read(contentsOf: outputs.appendingPathComponent(file))
        }
        return result
    }

    /// Compares our engine with ONNX Runtime; returns the kernels our plan chose.
    @discardableResult
    func compare(_ graph: Graph, feeds: [String: Tensor]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spdy-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("model.onnx")
        try ONNXModel.write(graph, to: model)
        let theirs = try onnxRuntime(model, feeds, in: directory)
        let plan = try ExecutionPlan(graph: try ONNXModel.load(contentsOf: model), inputShapes: feeds.mapValues(\.shape),
                                     options: EngineOptions(threads: 2))
        let ours = try plan.run(feeds)
        for output in graph.outputs {
            let a = try #require(ours[output.name]), b = try #require(theirs[output.name], "ORT lacks \(output.name)")
            #expect(maxAbsDifference(a, b) <= 1e-4 * max(maxAbs(b), 1e-6), "\(output.name)")
        }
        return plan.stepDescriptions.map(\.kernel)
    }

    /// Zeroes the `sparsity` fraction of smallest-magnitude weights of every prunable layer of
    /// kind `opTypes` (layer-wise magnitude pruning).
    func prune(_ graph: inout Graph, feeds: [String: Tensor], sparsity: Double, opTypes: Set<String>) throws {
        let analysis = try StaticAnalysis(graph, inputShapes: feeds.mapValues(\.shape))
        for layer in PrunableLayer.discover(in: graph, analysis: analysis) where opTypes.contains(layer.opType) {
            let w = try #require(graph.initializers[layer.id])
            let threshold = w.floats.map(abs).sorted()[Int(Double(w.count) * sparsity)]
            graph.initializers[layer.id] = w.mapFloats { abs($0) < threshold ? 0 : $0 }
        }
    }

    @Test("ResNet-18 with 90% of every conv weight zeroed (magnitude), exported")
    func prunedResNet() throws {
        let fixture = try ReferenceFixture("resnet18")
        var graph = try ONNXModel.load(contentsOf: fixture.modelURL)
        let feeds = try fixture.inputs()
        try prune(&graph, feeds: feeds, sparsity: 0.9, opTypes: ["Conv"])
        let kernels = try compare(graph, feeds: feeds)
        // Pruned convolutions run sparse: direct for stride 1, direct or pointwise over a phase
        // split for the strided ones (the 7x7/2 stem, the 3x3/2 and 1x1/2 block entries).
        #expect(kernels.contains { $0.contains("sparse-direct ") })
        #expect(kernels.contains { $0.contains("Conv 7x7/2 sparse-direct/s2") })
        #expect(kernels.contains { $0.contains("Conv 3x3/2 sparse-direct/s2") })
        #expect(kernels.contains { $0.contains("Conv 1x1/2 sparse-pointwise/s2") })
        #expect(!kernels.contains { $0.hasPrefix("Conv") && !$0.contains("sparse") })
    }

    @Test("ResNet-50 with 80% of every conv weight zeroed runs its 1x1 convolutions sparse, equal to ONNX Runtime")
    func prunedResNet50() throws {
        let fixture = try ReferenceFixture("resnet50")
        var graph = try ONNXModel.load(contentsOf: fixture.modelURL)
        let feeds = try fixture.inputs()
        try prune(&graph, feeds: feeds, sparsity: 0.8, opTypes: ["Conv"])
        let kernels = try compare(graph, feeds: feeds)
        #expect(kernels.filter { $0.contains("sparse-pointwise") }.count >= 30)
    }

    @Test("MiniLM (torch export) with 90% of its Linear weights zeroed runs them sparse, equal to ONNX Runtime")
    func prunedMiniLM() throws {
        let fixture = try ReferenceFixture("minilm")
        var graph = try ONNXModel.load(contentsOf: fixture.modelURL)
        let feeds = try fixture.inputs()
        try prune(&graph, feeds: feeds, sparsity: 0.9, opTypes: ["MatMul", "Gemm"])
        let kernels = try compare(graph, feeds: feeds)
        #expect(kernels.filter { $0.hasPrefix("Linear") && $0.contains("sparse") }.count == 36)
    }

    @Test("MiniLM imported from safetensors, exported with its sentence-embedding head")
    func miniLMFromSafetensors() throws {
        let fixture = try ReferenceFixture("minilm")
        let folder = try #require(fixture.manifest.hf_dir, "manifest lacks hf_dir")
        var graph = try BERTImporter.importFolder(URL(fileURLWithPath: folder))
        try graph.appendSentenceEmbedding()
        try compare(graph, feeds: try fixture.inputs())
    }
}
