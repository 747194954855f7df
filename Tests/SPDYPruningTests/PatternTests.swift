import Foundation
import Testing
import SPDYCore
import SPDYGraph
import SPDYPruning
import SPDYTensor

/// N:M sparsity: masks, layer-wise reconstruction for a pattern, and the N:M database kind.
@Suite("N:M sparsity")
struct PatternTests {
    static let patterns = [try! SparsityPattern(n: 2, m: 4), try! SparsityPattern(n: 4, m: 8)]

    /// A real convolution of the demo model with its inputs captured on calibration digits.
    static func capturedLayer(_ name: String = "layer2.1.conv1.weight", samples: Int = 128)
        throws -> (layer: PrunableLayer, hessian: LayerHessian, weights: [Float])
    {
        let graph = try DemoFixture.graph()
        let layer = try #require(try DemoFixture.layers(graph).first { $0.id == name })
        let hessians = try LayerCapture.hessians(graph: graph, layers: [layer], calibration: try DemoFixture.calibration(graph, samples: samples),
                                                 batchSize: 32, threads: 2, keepBatches: true)
        let hessian = try #require(hessians[layer.id])
        return (layer, hessian, hessian.layout.matrix(fromTensorOrder: try Stitcher.weight(layer.id, in: graph).floats))
    }

    @Test("patterns parse as N:M and refuse anything else")
    func parsing() throws {
        #expect(try SparsityPattern(parsing: "2:4") == .twoOfFour)
        #expect(try SparsityPattern(parsing: "4:8").sparsity == 0.5)
        #expect(try SparsityPattern(parsing: "1:4").grid.sparsities == [0, 0.75])
        for bad in ["4:4", "0:4", "2-4", "2:", ":4", "3:2", "2:4:8", "1:65"] {
            #expect(throws: SparsityPattern.ParseError.self, "\(bad)") { try SparsityPattern(parsing: bad) }
        }
        let data = try JSONEncoder().encode(SparsityPattern.twoOfFour)
        #expect(String(decoding: data, as: UTF8.self) == "\"2:4\"")
    }

    @Test("magnitude masks keep exactly N of every M input channels at each kernel position, the largest ones")
    func magnitudeMasks() throws {
        let graph = try DemoFixture.graph()
        let layers = try DemoFixture.layers(graph)
        for pattern in Self.patterns {
            for layer in layers where layer.id != "conv1.weight" {
                let layout = try WeightLayout(layer: layer, graph: graph)
                let groups = try PatternGroups(pattern: pattern, layer: layer, layout: layout)
                let tensor = try Stitcher.weight(layer.id, in: graph).floats
                let mask = layout.tensorOrder(fromMatrix: groups.magnitudeMask(weights: layout.matrix(fromTensorOrder: tensor), rows: layout.rows))
                // Walk the groups in the tensor's own layout (OIHW, or [K, N] / [N, K] for fc).
                let shape = layer.weightShape
                let outputs = layout.rows, channels = layout.columns / groups.positions, positions = groups.positions
                func index(_ o: Int, _ c: Int, _ p: Int) -> Int {
                    layer.opType == "Conv" ? (o * channels + c) * positions + p : layout.tensorIndex(row: o, column: c)
                }
                #expect(shape.reduce(1, *) == outputs * channels * positions)
                for o in 0..<outputs {
                    for p in 0..<positions {
                        for block in stride(from: 0, to: channels, by: pattern.m) {
                            let members = (block..<(block + pattern.m)).map { index(o, $0, p) }
                            let kept = members.filter { mask[$0] }, dropped = members.filter { !mask[$0] }
                            #expect(kept.count == pattern.n, "\(layer.id) \(pattern) row \(o) position \(p) channels \(block)…")
                            let smallestKept = kept.map { abs(tensor[$0]) }.min() ?? 0, largestDropped = dropped.map { abs(tensor[$0]) }.max() ?? 0
                            #expect(smallestKept >= largestDropped)
                        }
                    }
                }
                #expect(groups.satisfies(mask: layout.matrix(fromTensorOrder: mask), rows: layout.rows))
            }
            // The first convolution reads one channel: no pattern fits, and the partition says so.
            let (fitting, skipped) = try DatabaseBuilder.partition(layers, graph: graph, pattern: pattern)
            #expect(skipped.map(\.layer.id) == ["conv1.weight"])
            #expect(skipped.first?.reason.contains("not a multiple of \(pattern.m)") == true)
            #expect(fitting.count == layers.count - 1)
        }
    }

    @Test("exact N:M reconstruction on captured inputs: the pattern holds, weights are optimal for the mask, error below masking and AdaPrune")
    func exactReconstruction() throws {
        let (layer, hessian, weights) = try Self.capturedLayer()
        let layout = hessian.layout
        for pattern in Self.patterns {
            let groups = try PatternGroups(pattern: pattern, layer: layer, layout: layout)
            let exact = try ExactReconstructor(threads: 2).reconstruct(weights: weights, hessian: hessian, groups: groups)
            #expect(exact.levelCount == 2 && exact.values[0] == weights && exact.errors[0] == 0)
            let kept = exact.removal.map { $0 == 2 }
            #expect(groups.satisfies(mask: kept, rows: layout.rows))
            #expect(exact.survivorCount(level: 1) == layout.count * pattern.n / pattern.m)
            let matrix = exact.matrix(level: 1)
            #expect(zip(matrix, kept).allSatisfy { $1 || $0 == 0 })
            // Plain masking (no reconstruction): the magnitude mask, and exact's own mask.
            let magnitude = groups.magnitudeMask(weights: weights, rows: layout.rows)
            let plainMagnitude = error(zip(weights, magnitude).map { $1 ? $0 : 0 }, weights, hessian)
            let plainOwn = error(zip(weights, kept).map { $1 ? $0 : 0 }, weights, hessian)
            let adaprune = try AdaPruneReconstructor(seed: 1).reconstruct(weights: weights, hessian: hessian, groups: groups)
            #expect(groups.satisfies(mask: adaprune.removal.map { $0 == 2 }, rows: layout.rows))
            #expect(adaprune.removal.map { $0 == 2 } == magnitude)
            #expect(abs(exact.errors[1] - error(matrix, weights, hessian)) <= 1e-6 + 1e-4 * exact.errors[1])
            #expect(exact.errors[1] < 0.5 * plainMagnitude, "\(pattern): exact \(exact.errors[1]) vs magnitude masking \(plainMagnitude)")
            #expect(exact.errors[1] < plainOwn)
            #expect(adaprune.errors[1] < plainMagnitude)
            #expect(exact.errors[1] < adaprune.errors[1], "\(pattern): exact \(exact.errors[1]) vs AdaPrune \(adaprune.errors[1])")
            // Optimality for the mask: the gradient of (w'−w)ᵀ(H+λI)(w'−w) vanishes on every kept weight.
            let d = layout.columns, h = hessian.matrices[0]
            let lambda = 0.01 * (0..<d).reduce(0.0) { $0 + h[$1 * d + $1] } / Double(d)
            for r in 0..<layout.rows {
                for q in 0..<d where kept[r * d + q] {
                    var g = 0.0, scale = 0.0
                    for j in 0..<d {
                        g += (h[q * d + j] + (q == j ? lambda : 0)) * (Double(matrix[r * d + j]) - Double(weights[r * d + j]))
                        scale += abs(h[q * d + j] * Double(weights[r * d + j]))
                    }
                    #expect(abs(g) <= 1e-4 * scale + 1e-6, "\(pattern) row \(r) column \(q): gradient \(g)")
                }
            }
        }
    }

    /// `‖(W' − W) X‖² / ‖W X‖²` from the Hessian.
    func error(_ candidate: [Float], _ dense: [Float], _ hessian: LayerHessian) -> Double {
        let d = hessian.layout.columns, h = hessian.matrices[0]
        var error = 0.0, norm = 0.0
        for r in 0..<hessian.layout.rows {
            let delta = (0..<d).map { Double(candidate[r * d + $0]) - Double(dense[r * d + $0]) }
            let w = (0..<d).map { Double(dense[r * d + $0]) }
            for i in 0..<d {
                for j in 0..<d {
                    error += delta[i] * h[i * d + j] * delta[j]
                    norm += w[i] * h[i * d + j] * w[j]
                }
            }
        }
        return error / norm
    }

    @Test("an N:M database records its pattern; unstructured and N:M databases refuse each other's uses")
    func databaseKinds() throws {
        let graph = try DemoFixture.graph()
        let layers = try DemoFixture.layers(graph)
        let calibration = try DemoFixture.calibration(graph, samples: 32)
        let chosen = layers.filter { ["layer1.0.conv1.weight", "layer3.1.conv2.weight", "fc.weight"].contains($0.id) }
        let directory = try DemoFixture.temporaryDirectory()
        let builder = DatabaseBuilder(graph: graph, modelPath: DemoFixture.modelPath, layers: chosen, calibration: calibration,
                                      threads: 2, pattern: .twoOfFour)
        let database = try builder.build(directory: directory)
        #expect(database.manifest.pattern == .twoOfFour && database.manifest.grid == SparsityPattern.twoOfFour.grid)
        #expect(database.manifest.formatVersion == ReconstructionDatabase.patternFormatVersion)
        let manifestText = try String(contentsOfFile: directory + "/manifest.json", encoding: .utf8)
        #expect(manifestText.contains("\"pattern\" : \"2:4\""))
        // Reopened: every layer reads back with its 2:4 mask and the record's pattern.
        let reopened = try ReconstructionDatabase.open(directory: directory)
        try reopened.validate(against: graph, layers: layers)
        for layer in chosen {
            let stored = try reopened.layer(layer.id)
            #expect(stored.record.pattern == .twoOfFour)
            let layout = try WeightLayout(layer: layer, graph: graph)
            let groups = try PatternGroups(pattern: .twoOfFour, layer: layer, layout: layout)
            #expect(groups.satisfies(mask: layout.matrix(fromTensorOrder: stored.removal.map { $0 == 2 }), rows: layout.rows))
            #expect(stored.weights(level: 1).filter { $0 != 0 }.count <= layer.parameters / 2)
        }
        // The same folder for another pattern or for unstructured levels: refused, naming both kinds.
        for (other, kind) in [(SparsityPattern?.some(try SparsityPattern(n: 4, m: 8)), "N:M 4:8"), (nil, "unstructured")] {
            var mismatched = builder
            mismatched.pattern = other
            if other == nil { mismatched.grid = .standard }
            do {
                try mismatched.build(directory: directory)
                Issue.record("a 2:4 database was reused for \(kind) levels")
            } catch let error as PruningError {
                #expect(error.description.contains("N:M 2:4 levels, not \(kind)"), "\(error)")
            }
        }
        // Uses: a search (unstructured) refuses it, an N:M run with another pattern too.
        #expect(throws: PruningError.self) { try reopened.require(pattern: nil, for: "spdy search") }
        do { try reopened.require(pattern: nil, for: "spdy search") } catch { #expect("\(error)".contains("spdy apply --db")) }
        #expect(throws: PruningError.self) { try reopened.require(pattern: try SparsityPattern(n: 4, m: 8), for: "spdy prune --pattern 4:8") }
        try reopened.require(pattern: .twoOfFour, for: "spdy prune --pattern 2:4")
        // A profile on the standard grid cannot be stitched from it.
        let profile = Profile(grid: .standard, levels: chosen.map { (LayerID($0.id), SparsityLevel(5)) })
        do {
            _ = try Stitcher.stitch(graph, profile: profile, database: reopened)
            Issue.record("an unstructured profile was stitched from an N:M database")
        } catch let error as PruningError {
            #expect(error.description.contains("N:M 2:4"))
        }
        // An unstructured database keeps format version 1 and no pattern key (older builds read it).
        let plain = try DemoFixture.temporaryDirectory()
        var unstructured = builder
        unstructured.pattern = nil
        unstructured.grid = try SparsityGrid(minimum: 0.4, maximum: 0.9, steps: 2)
        unstructured.layers = Array(chosen.prefix(1))
        let built = try unstructured.build(directory: plain)
        #expect(built.manifest.formatVersion == 1)
        #expect(!(try String(contentsOfFile: plain + "/manifest.json", encoding: .utf8)).contains("pattern"))
        #expect(throws: PruningError.self) { try built.require(pattern: .twoOfFour, for: "spdy prune --pattern 2:4") }
        try built.require(pattern: nil, for: "spdy search")
    }
}
