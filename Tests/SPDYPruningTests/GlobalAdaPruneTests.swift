import Foundation
import Testing
import SPDYCore
import SPDYGraph
import SPDYPruning
import SPDYTensor

/// Global AdaPrune on the demo ResNet: the layer-output loss falls, pruned weights stay zero,
/// and an interrupted run resumes to exactly the result of an uninterrupted one.
@Suite("Global AdaPrune", .serialized)
struct GlobalAdaPruneTests {
    /// The demo model with every prunable weight 80% magnitude-pruned, and its layers.
    static func pruned() throws -> (dense: Graph, sparse: Graph, layers: [PrunableLayer]) {
        let dense = try DemoFixture.graph()
        let layers = try DemoFixture.layers(dense)
        var sparse = dense
        for layer in layers {
            let w = dense.initializers[layer.id]!
            let threshold = w.floats.map(abs).sorted()[w.count * 8 / 10]
            sparse.initializers[layer.id] = Tensor(shape: w.shape, floats: w.floats.map { abs($0) < threshold ? 0 : $0 })
        }
        return (dense, sparse, layers)
    }

    static func zeros(_ graph: Graph, _ layers: [PrunableLayer]) -> [Int] {
        layers.map { layer in graph.initializers[layer.id]!.floats.filter { $0 == 0 }.count }
    }

    struct Stop: Error {}

    @Test("loss falls, masks hold, BatchNorm statistics do not move",
          .enabled(if: FileManager.default.fileExists(atPath: DemoFixture.calibrationPath + "/input.npy"),
                   "the demo digits are missing: scripts/prepare_fixtures.sh mnist_resnet makes them"))
    func improves() throws {
        let (dense, sparse, layers) = try Self.pruned()
        let calibration = try DemoFixture.calibration(dense, samples: 64)
        let feeds = calibration.batch(Array(0..<64))
        let before = try GlobalAdaPrune.loss(dense: dense, sparse: sparse, layers: layers, feeds: feeds, threads: 2)
        let settings = GlobalAdaPruneSettings(epochs: 3, batchSize: 16, learningRate: 1e-3, seed: 1, threads: 2)
        var epochs: [Double] = []
        let tuned = try GlobalAdaPrune.run(dense: dense, sparse: sparse, layers: layers, calibration: calibration, settings: settings) {
            epochs.append($0.loss)
        }
        let after = try GlobalAdaPrune.loss(dense: dense, sparse: tuned, layers: layers, feeds: feeds, threads: 2)
        #expect(epochs.count == 3)
        #expect(after < 0.8 * before, "gAP loss \(before) → \(after)")
        #expect(Self.zeros(tuned, layers) == Self.zeros(sparse, layers), "pruned weights stayed zero, no others became zero")
        #expect(tuned.initializers["bn1.running_mean"] == dense.initializers["bn1.running_mean"])
        #expect(tuned.initializers["bn1.weight"] != dense.initializers["bn1.weight"], "normalisation parameters train")
    }

    @Test("a head without a backward rule after the last prunable layer (an embedding's L2 normalisation) does not stop gAP",
          .enabled(if: FileManager.default.fileExists(atPath: DemoFixture.calibrationPath + "/input.npy"),
                   "the demo digits are missing: scripts/prepare_fixtures.sh mnist_resnet makes them"))
    func headWithoutBackward() throws {
        var (dense, sparse, layers) = try Self.pruned()
        // output → Max(output, 0.5) as the only graph output (Max has no backward rule).
        for index in [0, 1] {
            var graph = index == 0 ? dense : sparse
            let output = graph.outputs[0].name
            graph.initializers["floor"] = Tensor(shape: [], floats: [0.5])
            graph.nodes.append(Node(name: "head/Max", opType: "Max", inputs: [output, "floor"], outputs: ["clipped"], attributes: [:]))
            graph.outputs = [ValueInfo(name: "clipped", dataType: .float32, shape: nil)]
            if index == 0 { dense = graph } else { sparse = graph }
        }
        let calibration = try DemoFixture.calibration(dense, samples: 32)
        let settings = GlobalAdaPruneSettings(epochs: 1, batchSize: 16, learningRate: 1e-3, seed: 1, threads: 2)
        let tuned = try GlobalAdaPrune.run(dense: dense, sparse: sparse, layers: layers, calibration: calibration, settings: settings)
        #expect(tuned.nodes.map(\.name) == sparse.nodes.map(\.name) && tuned.outputs == sparse.outputs, "the head is kept")
        #expect(tuned.initializers["layer1.0.conv1.weight"] != sparse.initializers["layer1.0.conv1.weight"])
        #expect(Self.zeros(tuned, layers) == Self.zeros(sparse, layers))
    }

    @Test("an interrupted run resumes from its state file to the uninterrupted result",
          .enabled(if: FileManager.default.fileExists(atPath: DemoFixture.calibrationPath + "/input.npy"),
                   "the demo digits are missing: scripts/prepare_fixtures.sh mnist_resnet makes them"))
    func resumes() throws {
        let (dense, sparse, layers) = try Self.pruned()
        let calibration = try DemoFixture.calibration(dense, samples: 40)
        let settings = GlobalAdaPruneSettings(epochs: 3, batchSize: 16, learningRate: 1e-3, seed: 2, threads: 2)
        let straight = try GlobalAdaPrune.run(dense: dense, sparse: sparse, layers: layers, calibration: calibration, settings: settings)
        let state = URL(fileURLWithPath: try DemoFixture.temporaryDirectory()).appendingPathComponent("gap.safetensors")
        #expect(throws: Stop.self) {
            _ = try GlobalAdaPrune.run(dense: dense, sparse: sparse, layers: layers, calibration: calibration, settings: settings,
                                       stateFile: state) { if $0.epoch == 1 { throw Stop() } }
        }
        var resumedFlags: [Bool] = []
        let resumed = try GlobalAdaPrune.run(dense: dense, sparse: sparse, layers: layers, calibration: calibration, settings: settings,
                                             stateFile: state) { resumedFlags.append($0.resumed) }
        #expect(resumedFlags == [true, false], "epochs 2 and 3 ran, the first of them after resuming")
        for layer in layers { #expect(resumed.initializers[layer.id] == straight.initializers[layer.id], "\(layer.id)") }
        // Another calibration set does not resume from this state.
        #expect(throws: PruningError.self) {
            _ = try GlobalAdaPrune.run(dense: dense, sparse: sparse, layers: layers, calibration: calibration.prefix(32), settings: settings,
                                       stateFile: state)
        }
    }
}
