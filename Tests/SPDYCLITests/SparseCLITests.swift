import Foundation
import Testing
import SPDYGraph
import SPDYONNX
import SPDYTensor

/// The sparse-kernel side of the command line: `bench kernels`, the kernel choice shown by
/// `inspect --plan` and `bench`, and two models compared interleaved.
@Suite("spdy sparse kernels on the command line", .serialized)
struct SparseCLITests {
    /// The demo model with 90% of every convolution weight zeroed by magnitude, in a temporary folder.
    static func prunedDemo(in directory: URL) throws -> String {
        var graph = try ONNXModel.load(contentsOf: URL(fileURLWithPath: CLITests.demoModel))
        for node in graph.nodes where node.opType == "Conv" {
            let name = node.inputs[1]
            let w = try #require(graph.initializers[name])
            let threshold = w.floats.map(abs).sorted()[Int(Double(w.count) * 0.9)]
            graph.initializers[name] = w.mapFloats { abs($0) < threshold ? 0 : $0 }
        }
        let path = directory.appendingPathComponent("pruned.onnx")
        try ONNXModel.write(graph, to: path)
        return path.path
    }

    @Test("bench kernels --json: one record per shape and sparsity with dense and sparse time side by side")
    func benchKernelsJSON() throws {
        let result = try SPDYBinary.run(["bench", "kernels", "--suite", "minilm", "--sparsities", "0.5,0.9", "--threads", "2",
                                         "--repetitions", "1", "--warmup", "0", "--verify", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("0 failed"), "\(result.stderr)")
        struct Record: Decodable {
            var layer: String; var sparsity: Double; var threads: Int
            var dense_ms: Double; var sparse_ms: Double; var speedup: Double
        }
        let records = try JSONDecoder().decode([Record].self, from: Data(result.stdout.utf8))
        #expect(records.count == 6 * 2)  // 3 layer shapes × 2 token counts × 2 sparsities
        for r in records {
            #expect(r.threads == 2 && r.dense_ms > 0 && r.sparse_ms > 0)
            #expect(abs(r.speedup - r.dense_ms / r.sparse_ms) < 1e-9 * r.speedup, "\(r.layer)")
        }
        #expect(Set(records.map(\.sparsity)) == [0.5, 0.9])
    }

    @Test("inspect --plan shows each layer's sparsity and sparse kernel; bench compares dense and pruned")
    func prunedModelKernels() throws {
        let dir = try SPDYBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pruned = try Self.prunedDemo(in: dir)
        let inspect = try SPDYBinary.run(["inspect", pruned, "--plan", "--batch", "4", "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        struct Report: Decodable {
            struct Layer: Decodable { var opType: String; var sparsity: Double; var kernel: String? }
            var prunableLayers: [Layer]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(inspect.stdout.utf8))
        for layer in report.prunableLayers where layer.opType == "Conv" {
            #expect(abs(layer.sparsity - 0.9) < 0.02)
            #expect(layer.kernel?.contains("sparse-") == true, "\(layer.kernel ?? "none")")
        }
        // The Gemm was not pruned: dense.
        #expect(report.prunableLayers.first { $0.opType == "Gemm" }?.kernel?.contains("sgemm") == true)

        let bench = try SPDYBinary.run(["bench", CLITests.demoModel, pruned, "--batch", "4", "--repetitions", "2",
                                        "--warmup", "1", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        struct Bench: Decodable {
            struct M: Decodable { var model: String; var engine: String }
            var measurements: [M]
            var kernels: [String: String]
            var ratios: [String: Double]
        }
        let b = try JSONDecoder().decode(Bench.self, from: Data(bench.stdout.utf8))
        #expect(b.measurements.map(\.model) == [CLITests.demoModel, pruned])
        #expect(b.kernels[pruned]?.hasPrefix("15 sparse") == true, "\(b.kernels)")
        #expect(b.kernels[CLITests.demoModel]?.hasPrefix("0 sparse") == true, "\(b.kernels)")
        #expect(b.ratios.keys.contains { $0.hasPrefix("speedup") })

        // --sparse never keeps every layer dense.
        let dense = try SPDYBinary.run(["inspect", pruned, "--plan", "--sparse", "never", "--json"])
        let denseReport = try JSONDecoder().decode(Report.self, from: Data(dense.stdout.utf8))
        #expect(denseReport.prunableLayers.allSatisfy { $0.kernel?.contains("sparse") != true })
    }
}
