import Foundation
import Testing
import SPDYCore
import SPDYGraph
import SPDYPruning
import SPDYTensor

/// Gradual pruning to a profile: the cubic schedule, nested magnitude masks, the exact final
/// sparsities on the demo ResNet, and resuming an interrupted run.
@Suite("Gradual pruning", .serialized)
struct GradualPruningTests {
    @Test("the cubic schedule: 0 before the window, s_i at its start, the profile level at its end, monotone, cubic in between")
    func schedule() {
        let s = GradualPruningSchedule(initialSparsity: 0.05, startStep: 10, endStep: 110, frequency: 7)
        #expect(s.sparsity(at: 0, final: 0.9) == 0 && s.sparsity(at: 9, final: 0.9) == 0)
        #expect(abs(s.sparsity(at: 10, final: 0.9) - 0.05) < 1e-12)
        #expect(s.sparsity(at: 110, final: 0.9) == 0.9 && s.sparsity(at: 500, final: 0.9) == 0.9)
        for (step, progress) in [(35, 0.25), (60, 0.5), (85, 0.75)] {
            let expected = 0.9 + (0.05 - 0.9) * pow(1 - progress, 3)
            #expect(abs(s.sparsity(at: step, final: 0.9) - expected) < 1e-12, "step \(step)")
        }
        // Cubic, not linear: a quarter into the window 1 − 0.75³ = 58% of the rise is done.
        #expect(abs((s.sparsity(at: 35, final: 0.9) - 0.05) / 0.85 - (1 - pow(0.75, 3))) < 1e-12)
        let values = (0...120).map { s.sparsity(at: $0, final: 0.9) }
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "non-decreasing")
        // A layer whose level is below the initial sparsity starts (and stays) at its level; a dense one stays dense.
        #expect(s.sparsity(at: 10, final: 0.03) == 0.03 && s.sparsity(at: 60, final: 0.03) == 0.03)
        #expect(s.sparsity(at: 60, final: 0) == 0)
        // Zero counts: round(s·n) inside the window, exactly the final count at its end.
        #expect(s.zeros(at: 10, finalZeros: 2225, of: 2304) == Int((0.05 * 2304).rounded()))
        #expect(s.zeros(at: 110, finalZeros: 2225, of: 2304) == 2225 && s.zeros(at: 85, finalZeros: 2225, of: 2304) < 2225)
        #expect(s.zeros(at: 5, finalZeros: 2225, of: 2304) == 0)
        // Mask updates: every 7 steps from the start, and at the end.
        #expect((0...130).filter { s.prunes(at: $0) } == Array(stride(from: 10, through: 108, by: 7)) + [110])
    }

    @Test("the settings' window: 75% of the epochs by default, four mask updates per epoch, clamped to the last step")
    func settingsWindow() {
        let s = GradualPruningSettings(epochs: 8).schedule(stepsPerEpoch: 100)
        #expect(s.startStep == 0 && s.endStep == 600 && s.frequency == 25 && s.initialSparsity == 0.05)
        let late = GradualPruningSettings(epochs: 2, pruningStartEpoch: 0.5, pruningEndEpoch: 5, pruningFrequency: 3).schedule(stepsPerEpoch: 10)
        #expect(late.startStep == 5 && late.endStep == 19 && late.frequency == 3)
        #expect(GradualPruningSettings(epochs: 3, pruningStartEpoch: 2, pruningEndEpoch: 1).problem != nil)
    }

    @Test("magnitude masks: the smallest magnitudes, and nested in the previous mask")
    func masks() {
        let w: [Float] = [0.5, -0.1, 0.3, -0.7, 0.2, 0.05]
        #expect(MagnitudeMask.keep(w, zeros: 2) == [true, false, true, true, true, false])
        #expect(MagnitudeMask.keep(w, zeros: 0) == [Bool](repeating: true, count: 6))
        // A weight pruned before stays pruned even when its (frozen) value would rank it above others.
        let previous = [true, true, true, false, true, true]
        #expect(MagnitudeMask.keep(w, zeros: 2, previous: previous) == [true, true, true, false, true, false])
    }

    /// A profile for the demo model: every prunable layer but the first and last at `level`.
    static func profile(_ layers: [PrunableLayer], level: Int) -> Profile {
        Profile(grid: .standard, levels: layers.enumerated().map { i, layer in
            (LayerID(layer.id), SparsityLevel(i == 0 || i == layers.count - 1 ? 0 : level))
        })
    }

    static func zeros(_ graph: Graph, _ targets: [GradualPruningTarget]) -> [Int] {
        targets.map { t in graph.initializers[t.layer]!.floats.filter { $0 == 0 }.count }
    }

    struct Stop: Error {}

    static let dataPresent = FileManager.default.fileExists(atPath: DemoFixture.calibrationPath + "/input.npy")

    @Test("the demo ResNet ends at exactly the profile's zeros, BatchNorm statistics move, records every epoch",
          .enabled(if: dataPresent, "the demo digits are missing: scripts/prepare_fixtures.sh mnist_resnet makes them"))
    func exactProfile() throws {
        let dense = try DemoFixture.graph()
        let layers = try DemoFixture.layers(dense)
        let profile = Self.profile(layers, level: 30)
        let targets = try GradualPruning.targets(profile: profile, layers: layers)
        #expect(targets.count == layers.count - 2)
        for t in targets {
            #expect(t.finalZeros == t.count - SparsityGrid.standard.survivors(level: 30, of: t.count), "as stitching prunes")
        }
        let data = try DemoFixture.calibration(dense, samples: 64)
        let heldOut = try CalibrationSet(directory: DemoFixture.calibrationPath, graph: dense).prefix(96)
        let settings = GradualPruningSettings(epochs: 2, batchSize: 16, learningRate: 0.005, pruningEndEpoch: 1.5, seed: 3, threads: 2)
        var seen: [Int] = []
        let result = try GradualPruning.run(model: dense, targets: targets, data: data, heldOut: heldOut, settings: settings) {
            seen.append($0.count)
            let record = $0.last!
            #expect(record.heldOutAccuracy != nil && record.trainLoss.isFinite && record.steps == 4 * record.epoch)
        }
        #expect(seen == [1, 2] && result.epochs.count == 2)
        #expect(result.epochs[0].sparsity < result.epochs[1].sparsity, "sparsity rises")
        #expect(Self.zeros(result.graph, targets) == targets.map(\.finalZeros), "every layer at exactly its profile sparsity")
        let first = layers[0].id
        #expect(result.graph.initializers[first]!.floats.allSatisfy { $0 != 0 }, "a layer at level 0 stays dense")
        #expect(result.graph.initializers["bn1.running_mean"] != dense.initializers["bn1.running_mean"], "BatchNorm statistics update")
        // Without training steps the final masks are still applied (one-shot magnitude pruning to the profile).
        let short = GradualPruningSettings(epochs: 0, batchSize: 16, learningRate: 0.005, seed: 3, threads: 2)
        let cut = try GradualPruning.run(model: dense, targets: targets, data: data, settings: short)
        #expect(Self.zeros(cut.graph, targets) == targets.map(\.finalZeros) && cut.epochs.isEmpty)
        // Labels are required.
        let unlabelled = CalibrationSet(inputs: data.inputs)
        #expect(throws: PruningError.self) { _ = try GradualPruning.run(model: dense, targets: targets, data: unlabelled, settings: settings) }
    }

    @Test("an interrupted run resumes from its state to exactly the uninterrupted result",
          .enabled(if: dataPresent, "the demo digits are missing: scripts/prepare_fixtures.sh mnist_resnet makes them"))
    func resumes() throws {
        let dense = try DemoFixture.graph()
        let layers = try DemoFixture.layers(dense)
        let targets = try GradualPruning.targets(profile: Self.profile(layers, level: 20), layers: layers)
        let data = try DemoFixture.calibration(dense, samples: 48)
        let heldOut = try CalibrationSet(directory: DemoFixture.calibrationPath, graph: dense).prefix(32)
        let settings = GradualPruningSettings(epochs: 3, batchSize: 16, optimizer: .adam, learningRate: 1e-3, pruningFrequency: 2, seed: 5, threads: 2)
        let straight = try GradualPruning.run(model: dense, targets: targets, data: data, heldOut: heldOut, settings: settings)
        let state = URL(fileURLWithPath: try DemoFixture.temporaryDirectory()).appendingPathComponent("train.safetensors")
        #expect(throws: Stop.self) {
            _ = try GradualPruning.run(model: dense, targets: targets, data: data, heldOut: heldOut, settings: settings, stateFile: state) {
                if $0.count == 1 { throw Stop() }
            }
        }
        var resumedFlags: [[Bool]] = []
        let resumed = try GradualPruning.run(model: dense, targets: targets, data: data, heldOut: heldOut, settings: settings, stateFile: state) {
            resumedFlags.append($0.map(\.resumed))
        }
        #expect(resumedFlags == [[false, true], [false, true, false]], "epochs 2 and 3 ran, the first of them after resuming")
        for name in dense.initializers.keys.sorted() {
            #expect(resumed.graph.initializers[name] == straight.graph.initializers[name], "\(name)")
        }
        // The held-out loss is an engine evaluation of those (equal) weights: kernel tests running
        // concurrently in this process switch the process-wide instruction set and dense kernel
        // (`KernelInstructionSet.active`, `DenseProductChoice.active`), which can change the
        // summation order between the two evaluations (seen: 6e-9 relative).
        for (a, b) in zip(resumed.epochs.map(\.heldOutLoss), straight.epochs.map(\.heldOutLoss)) {
            let (x, y) = (try #require(a), try #require(b))
            #expect(abs(x - y) <= 1e-6 * max(1, abs(y)), "held-out loss \(x) resumed, \(y) uninterrupted")
        }
        #expect(resumed.epochs.map(\.trainLoss) == straight.epochs.map(\.trainLoss))
        // Other settings do not resume from this state.
        var other = settings
        other.learningRate = 2e-3
        #expect(throws: PruningError.self) {
            _ = try GradualPruning.run(model: dense, targets: targets, data: data, heldOut: heldOut, settings: other, stateFile: state)
        }
    }
}
