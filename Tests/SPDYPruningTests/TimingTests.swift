import Foundation
import Testing
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYPruning
import SPDYTensor
@testable import SPDYTiming

@Suite("Timing table on the engine")
struct TimingTests {
    @Test("every prunable layer at every level; dense-kernel levels share the dense time; sparse levels never rise")
    func demoTable() throws {
        let graph = try DemoFixture.graph()
        let grid = try SparsityGrid(minimum: 0.4, maximum: 0.95, steps: 5)
        let shapes = ["input": [8, 1, 28, 28]]
        let feeds = ["input": Tensor(shape: [8, 1, 28, 28], floats: (0..<(8 * 784)).map { Float($0 % 17) / 17 })]
        let timer = EngineTimer(graph: graph, inputShapes: shapes, feeds: feeds, options: EngineOptions(threads: 2), grid: grid,
                                warmup: 1, repetitions: 2, rounds: 2)
        let table = try timer.collect(machine: "test")
        #expect(table.layers.map(\.layer.name) == (try DemoFixture.layers(graph)).map(\.id))
        #expect(table.batch == 8 && table.threads == 2 && table.engine == "swift-spdy")
        #expect(abs(table.denseSeconds - table.baseSeconds) <= 1e-9 * table.baseSeconds + 1e-12)
        for layer in table.layers {
            let times = layer.levels.map { $0!.seconds }
            // Levels up to 60% density run the dense kernel under the standard policy.
            for level in 1..<grid.count where 1 - grid.sparsities[level] > 0.4 { #expect(times[level] == times[0]) }
            let sparse = (0..<grid.count).filter { 1 - grid.sparsities[$0] <= 0.4 }
            for (a, b) in zip(sparse, sparse.dropFirst()) { #expect(times[b] <= times[a], "\(layer.layer)") }
        }
    }

    @Test("the non-increasing fit pools violators by weight")
    func nonIncreasingFit() {
        #expect(EngineTimer.nonIncreasingFit([3, 1, 2, 0.5], weights: [1, 1, 1, 1]) == [3, 1.5, 1.5, 0.5])
        #expect(EngineTimer.nonIncreasingFit([1, 2, 3], weights: [1, 1, 2]) == [2.25, 2.25, 2.25])
        #expect(EngineTimer.nonIncreasingFit([], weights: []) == [])
    }

    @Test("paired speedups cancel a machine that drifts between rounds")
    func pairedSpeedups() {
        // Three models whose true speeds are 1 : 1.5 : 2 on a machine that slows down 3× midway.
        let slowdown: [Double] = [1, 1, 1, 3, 3, 3, 3]
        let rounds = slowdown.map { [10 * $0, 10 / 1.5 * $0, 5 * $0] }
        let paired = SpeedupMeasurement.pairedSpeedups(roundTimes: rounds)
        #expect(paired.count == 3 && paired[0].speedup == 1 && paired[0].spread == 0)
        #expect(abs(paired[1].speedup - 1.5) < 1e-12 && abs(paired[2].speedup - 2) < 1e-12)
        #expect(paired[1].spread < 1e-12)
        #expect(SpeedupMeasurement.pairedSpeedups(roundTimes: []).isEmpty)
    }

    @Test("a measurement runs every model in every round, at least the rounds asked for")
    func measurementRounds() throws {
        let graph = try DemoFixture.graph()
        let shapes = ["input": [2, 1, 28, 28]]
        let feeds = ["input": Tensor(shape: [2, 1, 28, 28], floats: (0..<(2 * 784)).map { Float($0 % 13) / 13 })]
        let measurement = SpeedupMeasurement(feeds: feeds, inputShapes: shapes, options: EngineOptions(threads: 1), warmup: 1,
                                             repetitions: 2, rounds: 5, minimumSeconds: 0)
        let (dense, models) = try measurement.measure(dense: graph, models: [graph, graph])
        #expect(dense.samplesMs.count == 10 && models.allSatisfy { $0.samplesMs.count == 10 })
        #expect(dense.speedup == 1 && models.allSatisfy { $0.speedup > 0 && $0.medianMs > 0 })
    }
}
