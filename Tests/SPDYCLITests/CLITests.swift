import Foundation
import Testing
import SPDYTensor

/// End to end through the real binary, on the shipped demo model and on bad files.
@Suite("spdy command line", .serialized)
struct CLITests {
    static let demoModel = SPDYBinary.repositoryRoot.appendingPathComponent("models/demo/mnist_resnet.onnx").path

    @Test("inspect --json lists the prunable layers with FLOPs at the batch size")
    func inspectJSON() throws {
        let result = try SPDYBinary.run(["inspect", Self.demoModel, "--batch", "4", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        struct Report: Decodable {
            struct Layer: Decodable { var id: String; var opType: String; var weightShape: [Int]; var flops: Int; var outputShape: [Int] }
            var prunableLayers: [Layer]
            var inputShapes: [String: [Int]]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(report.inputShapes["input"] == [4, 1, 28, 28])
        #expect(report.prunableLayers.filter { $0.opType == "Conv" }.count == 15)
        #expect(report.prunableLayers.filter { $0.opType == "Gemm" }.count == 1)
        for layer in report.prunableLayers where layer.opType == "Conv" {
            // FLOPs = 2 · output elements · (C_in/groups) · kh · kw.
            let perOutput = layer.weightShape.dropFirst().reduce(1, *)
            #expect(layer.flops == 2 * layer.outputShape.reduce(1, *) * perOutput, "\(layer.id)")
            #expect(layer.outputShape.first == 4)
        }
    }

    @Test("run writes outputs equal to ONNX Runtime's")
    func runMatchesReference() throws {
        let reference = SPDYBinary.repositoryRoot.appendingPathComponent(".cache/fixtures/mnist_resnet.ref")
        let out = try SPDYBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try SPDYBinary.run(["run", Self.demoModel, "--input", "input=\(reference.appendingPathComponent("input.npy").path)",
                                         "-o", out.path, "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let got = try NPY.read(contentsOf: out.appendingPathComponent("logits.npy"))
        let want = try NPY.read(contentsOf: reference.appendingPathComponent("logits.npy"))
        #expect(got.shape == want.shape)
        let scale = want.floats.map(abs).max() ?? 1
        let diff = zip(got.floats, want.floats).map { abs($0 - $1) }.max() ?? .infinity
        #expect(diff <= 1e-4 * scale)
    }

    @Test("bench --json reports median, spread and throughput")
    func benchJSON() throws {
        let result = try SPDYBinary.run(["bench", Self.demoModel, "--batch", "2", "--repetitions", "2", "--warmup", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        struct Report: Decodable {
            struct M: Decodable { var engine: String; var batch: Int; var medianMs: Double; var samplesPerSecond: Double; var samplesMs: [Double] }
            var measurements: [M]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        let m = try #require(report.measurements.first)
        #expect(m.engine == "swift-spdy" && m.batch == 2 && m.samplesMs.count == 6 && m.medianMs > 0)
        #expect(abs(m.samplesPerSecond - 2 / (m.medianMs / 1000)) < 1e-6 * m.samplesPerSecond)
    }

    @Test("an unsupported operator is named with its node and opset")
    func unsupportedOperator() throws {
        let dir = try SPDYBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("custom.onnx")
        try Data(FixtureModels.unsupportedOperatorModel()).write(to: model)
        let result = try SPDYBinary.run(["inspect", model.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Frobnicate") && result.stderr.contains("frob_node") && result.stderr.contains("opset 17"),
                "\(result.stderr)")
    }

    @Test("a truncated model file gives an error naming the file, never a crash")
    func truncatedModel() throws {
        let dir = try SPDYBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.demoModel))
        for fraction in [0.1, 0.5, 0.9, 0.999] {
            let path = dir.appendingPathComponent("truncated.onnx")
            try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: path)
            let result = try SPDYBinary.run(["inspect", path.path])
            #expect(result.status == 1 || result.status == 64, "exit \(result.status) at \(fraction): \(result.stderr)")
            #expect(result.stderr.contains("truncated.onnx"), "\(result.stderr)")
        }
    }

    @Test("a wrong input shape for run is reported with the input's name")
    func wrongInputShape() throws {
        let dir = try SPDYBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("x.npy")
        try NPY.write(Tensor(zeros: [2, 3, 28, 28]), to: input)
        let result = try SPDYBinary.run(["run", Self.demoModel, "--input", "input=\(input.path)", "-o", dir.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("input"), "\(result.stderr)")
    }
}

/// `spdy solve` on a published DeepSparse table.
@Suite("spdy solve")
struct SolveCLITests {
    static let table = SPDYBinary.repositoryRoot.appendingPathComponent("Tests/Fixtures/deepsparse-timings/rn18_unstr.txt").path

    @Test("meets the target within 1%, charging excluded layers, with the uniform profile beside it")
    func solvesWithExclusions() throws {
        let result = try SPDYBinary.run(["solve", "--timings", Self.table, "--speedup", "2", "--exclude", "conv1", "--exclude", "fc"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("excluded (dense, charged): conv1, fc"))
        #expect(result.stdout.contains("uniform"))
        let json = try SPDYBinary.run(["solve", "--timings", Self.table, "--speedup", "2", "--exclude", "conv1", "--exclude", "fc", "--json"])
        struct Report: Decodable {
            struct Profile: Decodable {
                struct Layer: Decodable { var layer: String; var level: Int }
                var layers: [Layer]
                var predictedSpeedup: Double
            }
            var profile: Profile
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
        #expect(report.profile.predictedSpeedup >= 2 && report.profile.predictedSpeedup <= 2.02)
        #expect(report.profile.layers.first { $0.layer == "conv1" }?.level == 0)
        #expect(report.profile.layers.first { $0.layer == "fc" }?.level == 0)
    }

    @Test("an infeasible target fails with the largest achievable speedup")
    func infeasible() throws {
        let result = try SPDYBinary.run(["solve", "--timings", Self.table, "--speedup", "50"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("largest achievable speedup is 4.2"), "\(result.stderr)")
    }
}
