import Foundation
import Testing
import SPDYONNX
import SPDYTensor

/// `spdy prune --pattern N:M` end to end on the demo model, and the N:M database refused where
/// unstructured levels are needed (and the other way round).
@Suite("spdy prune --pattern on the command line")
struct PatternCLITests {
    /// Whether `weight` (OIHW, or [out, in] for the classifier) keeps at most `n` of every `m`
    /// consecutive input channels at each kernel position.
    static func holds(_ weight: Tensor, n: Int, m: Int) -> Bool {
        let shape = weight.shape, values = weight.floats
        let outputs = shape[0], channels = shape[1], positions = shape.dropFirst(2).reduce(1, *)
        for o in 0..<outputs {
            for p in 0..<positions {
                for block in stride(from: 0, to: channels, by: m) {
                    let nonzero = (block..<(block + m)).filter { values[(o * channels + $0) * positions + p] != 0 }.count
                    if nonzero > n { return false }
                }
            }
        }
        return true
    }

    @Test("prune --pattern 2:4 --gap: dense, magnitude, reconstructed and gAP rows; every fitting layer at 2:4; kinds refused")
    func pruneTwoOfFour() throws {
        let directory = try SPDYBinary.temporaryDirectory()
        let out = directory.appendingPathComponent("nm").path
        let calib = try PipelineCLITests.smallCalibration(64, in: directory)
        let result = try SPDYBinary.run(["prune", CLITests.demoModel, "--calib", calib, "--eval", PipelineCLITests.heldOut,
                                         "--pattern", "2:4", "-o", out, "--batch", "16", "--threads", "2", "--measure-rounds", "1",
                                         "--gap", "--gap-epochs", "2", "--gap-batch", "16", "--gap-lr", "1e-4"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("conv1.weight: 1 input channel(s)"), "\(result.stderr)")
        for file in ["database-2of4/manifest.json", "profile-2of4.json", "pruned-2of4-magnitude.onnx", "pruned-2of4-exact.onnx",
                     "pruned-2of4-exact-gap.onnx", "results.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/timings.json"))
        struct Row: Decodable {
            struct Score: Decodable { var loss: Double; var accuracy: Double? }
            var method: String
            var measuredSpeedup: Double?
            var calibration: Score?
            var heldOut: Score?
            var pattern: String?
        }
        let rows = try JSONDecoder().decode([Row].self, from: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
        #expect(rows.map(\.method) == ["dense", "2:4 magnitude", "2:4 exact", "2:4 exact+gap"])
        #expect(rows.dropFirst().allSatisfy { $0.pattern == "2:4" && $0.measuredSpeedup != nil && $0.heldOut != nil })
        // Layer-wise reconstruction repairs what plain magnitude masking breaks; gAP lowers the
        // calibration loss further.
        let magnitude = rows[1], exact = rows[2], gap = rows[3]
        #expect(exact.calibration!.loss < magnitude.calibration!.loss)
        #expect(exact.heldOut!.accuracy! > magnitude.heldOut!.accuracy!)
        #expect(gap.calibration!.loss < exact.calibration!.loss, "gAP \(gap.calibration!.loss) vs layer-wise \(exact.calibration!.loss)")
        let dense = try ONNXModel.load(contentsOf: URL(fileURLWithPath: CLITests.demoModel))
        for name in ["magnitude", "exact", "exact-gap"] {
            let model = try ONNXModel.load(contentsOf: URL(fileURLWithPath: out + "/pruned-2of4-\(name).onnx"))
            for (id, weight) in model.initializers where id.hasSuffix(".weight") && weight.rank >= 2 && dense.initializers[id]!.shape[1] > 1 {
                #expect(Self.holds(weight, n: 2, m: 4), "\(name): \(id) breaks 2:4")
                #expect(weight.floats.filter { $0 != 0 }.count <= weight.count / 2, "\(name): \(id)")
            }
            // conv1 reads one channel: no 2:4 fits, it stays dense (gAP trains it, never zeroes it).
            let conv1 = model.initializers["conv1.weight"]!
            #expect(name == "exact-gap" ? !conv1.floats.contains(0) : conv1 == dense.initializers["conv1.weight"], "conv1 stays dense")
        }
        // The N:M database: apply needs no profile; search and an unstructured build refuse it.
        let db = out + "/database-2of4"
        let applied = directory.appendingPathComponent("applied.onnx").path
        let apply = try SPDYBinary.run(["apply", CLITests.demoModel, "--db", db, "-o", applied])
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(try ONNXModel.load(contentsOf: URL(fileURLWithPath: applied)).initializers
                == ONNXModel.load(contentsOf: URL(fileURLWithPath: out + "/pruned-2of4-exact.onnx")).initializers)
        // (The database is checked before the timing table is read: none is needed here.)
        let timings = directory.appendingPathComponent("timings.json").path
        let search = try SPDYBinary.run(["search", CLITests.demoModel, "--db", db, "--timings", timings, "--speedup", "1.5",
                                         "--calib", calib, "-o", directory.appendingPathComponent("p.json").path])
        #expect(search.status != 0 && search.stderr.contains("N:M 2:4") && search.stderr.contains("spdy search needs an unstructured database"),
                "\(search.stderr)")
        let unstructured = try SPDYBinary.run(["database", CLITests.demoModel, "--calib", calib, "-o", db, "--threads", "2"])
        #expect(unstructured.status != 0 && unstructured.stderr.contains("N:M 2:4 levels, not unstructured"), "\(unstructured.stderr)")
        let other = try SPDYBinary.run(["database", CLITests.demoModel, "--calib", calib, "-o", db, "--pattern", "4:8"])
        #expect(other.status != 0 && other.stderr.contains("not N:M 4:8"), "\(other.stderr)")
        let both = try SPDYBinary.run(["prune", CLITests.demoModel, "--calib", calib, "--pattern", "2:4", "--speedup", "2", "-o", out])
        #expect(both.status != 0 && both.stderr.contains("exclude each other"))
    }
}
