import Foundation
import Testing
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYPruning
import SPDYTensor

@Suite("Reconstruction database")
struct DatabaseTests {
    static let grid = try! SparsityGrid(minimum: 0.4, maximum: 0.9, steps: 4)

    func builder(_ graph: Graph, samples: Int = 64) throws -> DatabaseBuilder {
        DatabaseBuilder(graph: graph, modelPath: DemoFixture.modelPath, layers: try DemoFixture.layers(graph),
                        calibration: try DemoFixture.calibration(graph, samples: samples), grid: Self.grid, threads: 2)
    }

    @Test("a build interrupted after some layers and resumed writes the same files as one uninterrupted build")
    func resumeEqualsUninterrupted() throws {
        let graph = try DemoFixture.graph()
        let full = try builder(graph)
        let whole = try DemoFixture.temporaryDirectory(), split = try DemoFixture.temporaryDirectory()
        let reference = try full.build(directory: whole)
        // "Interrupted": only the first five layers were built, plus a leftover temporary file.
        var partial = full
        partial.manifestLayers = full.layers.map(\.id)
        partial.layers = Array(full.layers.prefix(5))
        try partial.build(directory: split)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: split).appendingPathComponent("layers/.half-written.tmp"))
        var skipped: [String] = []
        let resumed = try full.build(directory: split) { event in
            if case .skipped(let layer) = event { skipped.append(layer) }
        }
        #expect(skipped == full.layers.prefix(5).map(\.id))
        #expect(resumed.missingLayers.isEmpty)
        for layer in full.layers {
            let a = try Data(contentsOf: URL(fileURLWithPath: reference.path(of: layer.id)))
            let b = try Data(contentsOf: URL(fileURLWithPath: resumed.path(of: layer.id)))
            let recordA = try reference.layer(layer.id).record, recordB = try resumed.layer(layer.id).record
            #expect(try reference.layer(layer.id).values == resumed.layer(layer.id).values, "\(layer.id)")
            #expect(try reference.layer(layer.id).removal == resumed.layer(layer.id).removal, "\(layer.id)")
            #expect(recordA.errors == recordB.errors)
            // Equal metadata but for the build time, which the file also records.
            var timeless = recordB
            timeless.seconds = recordA.seconds
            #expect(timeless == recordA)
            #expect(!a.isEmpty && !b.isEmpty)
        }
        // Compact: at most 10× the dense prunable weights.
        let bytes = try full.layers.reduce(0) { total, layer in
            total + (try FileManager.default.attributesOfItem(atPath: reference.path(of: layer.id))[.size] as! Int)
        }
        let dense = full.layers.reduce(0) { $0 + $1.parameters * 4 }
        #expect(bytes <= 10 * dense, "database \(bytes) bytes for \(dense) bytes of weights")
    }

    @Test("stitching takes each layer's level from the database; excluded layers stay dense")
    func stitching() throws {
        let graph = try DemoFixture.graph()
        let directory = try DemoFixture.temporaryDirectory()
        let database = try builder(graph, samples: 32).build(directory: directory)
        let layers = try DemoFixture.layers(graph)
        let levels = layers.enumerated().map { ($0.element.id, SparsityLevel($0.offset % Self.grid.count)) }
        let profile = Profile(grid: Self.grid, levels: levels.dropFirst().map { (LayerID($0.0), $0.1) })
        let pruned = try Stitcher.stitch(graph, profile: profile, database: database)
        for (id, level) in levels {
            let weights = pruned.initializers[id]!.floats
            let zeros = weights.filter { $0 == 0 }.count
            if id == layers[0].id {
                #expect(weights == graph.initializers[id]!.floats)
            } else {
                #expect(weights == (try database.layer(id).weights(level: level.index)))
                #expect(zeros >= weights.count - Self.grid.survivors(level: level.index, of: weights.count))
            }
        }
        try database.validate(against: graph, layers: layers)
    }

    @Test("candidates sharing a prefix of levels reuse the earlier pass and score exactly as full passes")
    func prefixReuse() throws {
        let graph = try DemoFixture.graph()
        let directory = try DemoFixture.temporaryDirectory()
        let database = try builder(graph, samples: 48).build(directory: directory)
        // 48 samples in batches of 32 and 16: two batch sizes.
        let calibration = try DemoFixture.calibration(graph, samples: 48)
        let evaluator = ModelEvaluator(batchSize: 32, options: EngineOptions(threads: 2))
        let reusing = try CalibrationLoss(graph: graph, database: database, calibration: calibration, kind: .crossEntropy, evaluator: evaluator)
        let full = try CalibrationLoss(graph: graph, database: database, calibration: calibration, kind: .crossEntropy,
                                       evaluator: evaluator, reusePasses: false)
        let reuse = try #require(reusing.reuse)
        #expect(reuse.layers.count == database.manifest.layers.count)
        // A base profile, then candidates changing one layer at a time from the back to the front.
        let base = reuse.layers.map { _ in 2 }
        var candidates = [base]
        for changed in stride(from: reuse.layers.count - 1, through: 0, by: -3) {
            var levels = base
            levels[changed] = 3
            candidates.append(levels)
            candidates.append(base)
        }
        for levels in candidates {
            let profile = Profile(grid: Self.grid, levels: zip(reuse.layers, levels).map { (LayerID($0.0), SparsityLevel($0.1)) })
            let a = try reusing.loss(of: profile), b = try full.loss(of: profile)
            #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "levels \(levels): \(a) vs \(b)")
        }
        #expect(reuse.statistics.reused >= candidates.count - 2, "cuts after \(reuse.cutPoints) layers")
        #expect(reuse.statistics.skippedFraction > 0)
    }

    @Test("corrupt files, foreign models and other calibration sets are refused with the file named")
    func badDatabases() throws {
        let graph = try DemoFixture.graph()
        let directory = try DemoFixture.temporaryDirectory()
        let database = try builder(graph, samples: 32).build(directory: directory)
        let layer = database.manifest.layers[3]
        // Another calibration set in the same folder.
        #expect(throws: PruningError.self) { try self.builder(graph, samples: 48).build(directory: directory) }
        // Another model: one weight changed.
        var other = graph
        var changed = other.initializers[layer]!.floats
        changed[0] += 1
        other.initializers[layer] = Tensor(shape: other.initializers[layer]!.shape, floats: changed)
        do {
            try ReconstructionDatabase.open(directory: directory).validate(against: other, layers: try DemoFixture.layers(other))
            Issue.record("a database of another model was accepted")
        } catch let error as PruningError {
            #expect(error.description.contains(layer))
        }
        // Truncated and bit-flipped layer files.
        let path = database.path(of: layer)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for corrupt in [bytes.prefix(bytes.count / 2), Data(bytes.map { $0 ^ 0x5A }.prefix(64)) + bytes.dropFirst(64)] {
            try corrupt.write(to: URL(fileURLWithPath: path))
            do {
                _ = try ReconstructionDatabase.open(directory: directory).layer(layer)
                Issue.record("a corrupt layer file was accepted")
            } catch let error as PruningError {
                #expect(error.description.contains(path))
            }
        }
        #expect(throws: PruningError.self) { try ReconstructionDatabase.open(directory: directory + "/missing") }
    }

    @Test("calibration folders with missing inputs, wrong shapes or bad labels are refused")
    func badCalibration() throws {
        let graph = try DemoFixture.graph()
        let folder = try DemoFixture.temporaryDirectory()
        func expectFailure(_ fragment: String) {
            do {
                _ = try CalibrationSet(directory: folder, graph: graph)
                Issue.record("accepted a bad folder (\(fragment))")
            } catch let error as PruningError {
                #expect(error.description.contains(fragment), "\(error)")
            } catch { Issue.record("\(error)") }
        }
        expectFailure("input.npy")
        try NPY.write(Tensor(zeros: [4, 1, 27, 28]), to: URL(fileURLWithPath: folder + "/input.npy"))
        expectFailure("axis 2 must be 28")
        try NPY.write(Tensor(zeros: [4, 1, 28, 28]), to: URL(fileURLWithPath: folder + "/input.npy"))
        try NPY.write(Tensor(shape: [3], integers: [1, 2, 3]), to: URL(fileURLWithPath: folder + "/labels.npy"))
        expectFailure("3 labels for 4 samples")
        try NPY.write(Tensor(shape: [4], integers: [1, 2, 3, 4]), to: URL(fileURLWithPath: folder + "/labels.npy"))
        let set = try CalibrationSet(directory: folder, graph: graph)
        #expect(set.sampleCount == 4 && set.labels == [1, 2, 3, 4])
        #expect(set.batch(1..<3)["input"]!.shape == [2, 1, 28, 28])
    }
}
