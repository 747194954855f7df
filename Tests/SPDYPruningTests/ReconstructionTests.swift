import Foundation
import Testing
import SPDYCore
import SPDYGraph
import SPDYPruning
import SPDYTensor

@Suite("Layer reconstruction")
struct ReconstructionTests {
    static let grid = try! SparsityGrid(minimum: 0.4, maximum: 0.95, steps: 8)

    @Test("exact levels: nested masks, grid survivor counts, and weights that solve the masked normal equations")
    func exactIsOptimalForItsMasks() throws {
        let problem = try RandomLayerProblem(rows: 7, columns: 23, vectors: 200, seed: 3)
        let levels = try ExactReconstructor(threads: 2).reconstruct(weights: problem.weights, hessian: problem.hessian, grid: Self.grid)
        let n = problem.layout.count, d = problem.layout.columns
        #expect(levels.levelCount == Self.grid.count)
        #expect(levels.values[0] == problem.weights)
        let h = problem.hessian.matrices[0]
        var mean = 0.0
        for i in 0..<d { mean += h[i * d + i] }
        let lambda = 0.01 * mean / Double(d)
        for level in 1..<Self.grid.count {
            // Rows advance a stage at a time: at most the grid's survivors, short by less than a stage.
            let goal = Self.grid.survivors(level: level, of: n)
            #expect(levels.survivorCount(level: level) <= goal && levels.survivorCount(level: level) >= goal - d / 5, "level \(level)")
            #expect(levels.values[level].count == levels.survivorCount(level: level))
            // Nested: a weight pruned below stays pruned.
            let matrix = levels.matrix(level: level), previous = levels.matrix(level: level - 1)
            for i in 0..<n where Int(levels.removal[i]) <= level - 1 { #expect(previous[i] == 0 && matrix[i] == 0) }
            // Optimality: the gradient of (w'−w)ᵀ(H+λI)(w'−w) vanishes on the kept coordinates.
            for r in 0..<problem.layout.rows {
                for q in 0..<d where Int(levels.removal[r * d + q]) > level {
                    var g = 0.0, scale = 0.0
                    for j in 0..<d {
                        let delta = Double(matrix[r * d + j]) - Double(problem.weights[r * d + j])
                        g += (h[q * d + j] + (q == j ? lambda : 0)) * delta
                        scale += abs(h[q * d + j] * Double(problem.weights[r * d + j]))
                    }
                    #expect(abs(g) <= 1e-4 * scale + 1e-6, "row \(r) column \(q) level \(level): gradient \(g)")
                }
            }
        }
        // Errors grow with sparsity and stay below the error of pruning without reconstruction.
        for level in 1..<Self.grid.count {
            #expect(levels.errors[level] >= levels.errors[level - 1] - 1e-9)
            var unreconstructed = problem.weights
            for i in 0..<n where Int(levels.removal[i]) <= level { unreconstructed[i] = 0 }
            let plain = normalisedError(unreconstructed, problem)
            #expect(levels.errors[level] <= plain + 1e-9)
        }
    }

    @Test("exact beats AdaPrune and magnitude masks on a real layer of the demo model")
    func exactBeatsAdaPrune() throws {
        let graph = try DemoFixture.graph()
        let calibration = try DemoFixture.calibration(graph, samples: 128)
        let layer = try #require(try DemoFixture.layers(graph).first { $0.id == "layer2.1.conv1.weight" })
        let hessians = try LayerCapture.hessians(graph: graph, layers: [layer], calibration: calibration, batchSize: 32,
                                                 threads: 2, keepBatches: true)
        let hessian = try #require(hessians[layer.id])
        #expect(hessian.layout.rows == 32 && hessian.layout.columns == 32 * 9)
        let weights = hessian.layout.matrix(fromTensorOrder: try Stitcher.weight(layer.id, in: graph).floats)
        let exact = try ExactReconstructor(threads: 2).reconstruct(weights: weights, hessian: hessian, grid: Self.grid)
        let adaprune = try AdaPruneReconstructor(seed: 1).reconstruct(weights: weights, hessian: hessian, grid: Self.grid)
        for level in 1..<Self.grid.count {
            #expect(exact.errors[level] < adaprune.errors[level], "level \(level): exact \(exact.errors[level]) vs adaprune \(adaprune.errors[level])")
            #expect(adaprune.survivorCount(level: level) >= exact.survivorCount(level: level))
        }
    }

    @Test("convolution Hessians equal sums over explicitly unfolded patches, per group")
    func convolutionHessian() throws {
        // A grouped, strided, padded 3×3 convolution on a 2-image batch.
        let (n, c, h, w, o, groups) = (2, 4, 5, 6, 6, 2)
        var rng = SplitMix64(seed: 9)
        let x = (0..<(n * c * h * w)).map { _ in Float(rng.nextUnitDouble() - 0.5) }
        let weight = Tensor(shape: [o, c / groups, 3, 3], floats: (0..<(o * c / groups * 9)).map { _ in Float(rng.nextUnitDouble()) })
        let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                        attributes: ["group": .int(groups), "strides": .ints([2, 1]), "pads": .ints([1, 0, 0, 1])])
        let graph = Graph(name: "conv", inputs: [ValueInfo(name: "x", dataType: .float32, shape: [.fixed(n), .fixed(c), .fixed(h), .fixed(w)])],
                          outputs: [ValueInfo(name: "y", dataType: .float32, shape: nil)], initializers: ["w": weight], nodes: [node],
                          opsetVersion: 17)
        let layer = PrunableLayer.discover(in: graph, analysis: try StaticAnalysis(graph, inputShapes: [:]))[0]
        let hessian = try LayerHessian(layer: layer, graph: graph)
        try hessian.accumulate(input: Tensor(shape: [n, c, h, w], floats: x), threads: 2)
        let cg = c / groups, d = cg * 9
        let oh = (h + 1 + 0 - 3) / 2 + 1, ow = (w + 0 + 1 - 3) / 1 + 1
        for g in 0..<groups {
            var expected = [Double](repeating: 0, count: d * d)
            for image in 0..<n {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        var patch = [Double](repeating: 0, count: d)
                        for ci in 0..<cg {
                            for ky in 0..<3 {
                                for kx in 0..<3 {
                                    let iy = y * 2 + ky - 1, ix = xo + kx
                                    if iy >= 0, iy < h, ix >= 0, ix < w {
                                        patch[ci * 9 + ky * 3 + kx] = Double(x[((image * c + g * cg + ci) * h + iy) * w + ix])
                                    }
                                }
                            }
                        }
                        for i in 0..<d { for j in 0..<d { expected[i * d + j] += patch[i] * patch[j] } }
                    }
                }
            }
            for i in 0..<(d * d) {
                #expect(abs(hessian.matrices[g][i] - expected[i]) <= 1e-4 * (abs(expected[i]) + 1), "group \(g) entry \(i)")
            }
        }
        #expect(hessian.vectorCount == n * oh * ow)
    }

    @Test("a token mask keeps only the real tokens of a [batch × sequence × features] input")
    func tokenMaskedHessian() throws {
        let (b, t, d, o) = (2, 5, 4, 3)
        var rng = SplitMix64(seed: 21)
        let x = (0..<(b * t * d)).map { _ in Float(rng.nextUnitDouble() - 0.5) }
        let weight = Tensor(shape: [d, o], floats: (0..<(d * o)).map { _ in Float(rng.nextUnitDouble()) })
        let node = Node(name: "fc", opType: "MatMul", inputs: ["x", "w"], outputs: ["y"])
        let graph = Graph(name: "fc", inputs: [ValueInfo(name: "x", dataType: .float32, shape: [.fixed(b), .fixed(t), .fixed(d)])],
                          outputs: [ValueInfo(name: "y", dataType: .float32, shape: nil)], initializers: ["w": weight], nodes: [node],
                          opsetVersion: 17)
        let layer = PrunableLayer.discover(in: graph, analysis: try StaticAnalysis(graph, inputShapes: [:]))[0]
        let mask = [true, true, true, false, false, true, false, true, false, false]
        let masked = try LayerHessian(layer: layer, graph: graph)
        try masked.accumulate(input: Tensor(shape: [b, t, d], floats: x), tokenMask: mask)
        let plain = try LayerHessian(layer: layer, graph: graph)
        try plain.accumulate(input: Tensor(shape: [b, t, d], floats: x))
        var expected = [Double](repeating: 0, count: d * d)
        for row in 0..<(b * t) where mask[row] {
            for i in 0..<d { for j in 0..<d { expected[i * d + j] += Double(x[row * d + i]) * Double(x[row * d + j]) } }
        }
        for i in 0..<(d * d) { #expect(abs(masked.matrices[0][i] - expected[i]) <= 1e-5 * (abs(expected[i]) + 1), "entry \(i)") }
        #expect(masked.vectorCount == 5 && plain.vectorCount == b * t)
        #expect(masked.matrices[0] != plain.matrices[0])
    }

    private func normalisedError(_ candidate: [Float], _ problem: RandomLayerProblem) -> Double {
        let d = problem.layout.columns, h = problem.hessian.matrices[0]
        var error = 0.0, norm = 0.0
        for r in 0..<problem.layout.rows {
            for i in 0..<d {
                for j in 0..<d {
                    let di = Double(candidate[r * d + i] - problem.weights[r * d + i]), dj = Double(candidate[r * d + j] - problem.weights[r * d + j])
                    error += di * h[i * d + j] * dj
                    norm += Double(problem.weights[r * d + i]) * h[i * d + j] * Double(problem.weights[r * d + j])
                }
            }
        }
        return error / norm
    }
}
