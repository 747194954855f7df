import Foundation
import Testing
import SPDYGraph
import SPDYONNX
import SPDYTensor

/// `spdy train` on the shipped demo model: epochs printed and logged, the written model at
/// exactly the profile's sparsities, a rerun resuming to the same file.
@Suite("spdy train on the command line", .serialized)
struct TrainCLITests {
    /// A reference-text profile for the demo model: first convolution and classifier dense, the
    /// downsampling convolutions at 76.12% (grid level 10), everything else at 96.58% (level 29).
    static let levels: [(String, Double)] = {
        var rows: [(String, Double)] = [("conv1.weight", 0)]
        for block in ["layer1.0", "layer1.1", "layer2.0", "layer2.1", "layer3.0", "layer3.1"] {
            rows += [("\(block).conv1.weight", 0.9658457010762024), ("\(block).conv2.weight", 0.9658457010762024)]
            if block.hasSuffix(".0") && block != "layer1.0" { rows.append(("\(block).downsample.0.weight", 0.7611819108840916)) }
        }
        return rows + [("fc.weight", 0)]
    }()

    @Test("train: a few epochs on 64 digits, exact profile sparsities, JSON log, measured speed, resumable",
          .enabled(if: FileManager.default.fileExists(atPath: PipelineCLITests.calib + "/input.npy"),
                   "the demo digits are missing: scripts/prepare_fixtures.sh mnist_resnet makes them"))
    func trainEndToEnd() throws {
        let directory = try SPDYBinary.temporaryDirectory()
        let data = try PipelineCLITests.smallCalibration(64, in: directory)
        let profile = directory.appendingPathComponent("profile.txt")
        try Self.levels.map { String(format: "%.4f %@\n", $0.1, $0.0) }.joined().write(to: profile, atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent("gradual.onnx").path
        let arguments = ["train", CLITests.demoModel, "--data", data, "--eval-split", "0.25", "--profile", profile.path,
                         "--epochs", "2", "--batch", "16", "--lr", "0.005", "--threads", "2", "-o", output,
                         "--measure-batch", "8", "--measure-rounds", "1"]
        let result = try SPDYBinary.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("dense: held-out loss") && result.stdout.contains("epoch 2/2") && result.stdout.contains("speedup"),
                "\(result.stdout)")
        let trained = try ONNXModel.load(contentsOf: URL(fileURLWithPath: output))
        for (layer, sparsity) in Self.levels {
            let w = trained.initializers[layer]!.floats
            let expected = w.count - Int(((1 - sparsity) * Double(w.count)).rounded())
            #expect(w.filter { $0 == 0 }.count == expected, "\(layer)")
        }
        struct Log: Decodable {
            struct Epoch: Decodable { var epoch: Int; var heldOutAccuracy: Double?; var sparsity: Double }
            struct Layer: Decodable { var layer: String; var zeros: Int; var profileZeros: Int }
            struct Speed: Decodable { var speedup: Double }
            var epochs: [Epoch]; var layers: [Layer]; var speed: Speed?; var trainingSamples: Int; var heldOutSamples: Int?
        }
        let log = try JSONDecoder().decode(Log.self, from: Data(contentsOf: URL(fileURLWithPath: output + ".train-log.json")))
        #expect(log.epochs.map(\.epoch) == [1, 2] && log.epochs.allSatisfy { $0.heldOutAccuracy != nil })
        #expect(log.trainingSamples == 48 && log.heldOutSamples == 16)
        #expect(log.layers.count == 14 && log.layers.allSatisfy { $0.zeros == $0.profileZeros })
        #expect((log.speed?.speedup ?? 0) > 0)
        // The same command again resumes from the finished state: no epoch runs, the same model.
        let again = try SPDYBinary.run(arguments)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try ONNXModel.load(contentsOf: URL(fileURLWithPath: output)).initializers == trained.initializers)
        // Argument errors are reported before any work.
        let bad = try SPDYBinary.run(["train", CLITests.demoModel, "--data", data, "--profile", profile.path, "--epochs", "2",
                                      "-o", output, "--optimizer", "lion"])
        #expect(bad.status != 0 && bad.stderr.contains("--optimizer expects sgd or adam"))
    }
}
