import Foundation
import SPDYCore
import SPDYGraph
import SPDYONNX
import SPDYPruning
import SPDYTensor

/// The shipped demo model and its digit arrays (scripts/prepare_fixtures.sh writes the arrays).
enum DemoFixture {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var modelPath: String { repositoryRoot.appendingPathComponent("models/demo/mnist_resnet.onnx").path }
    static var calibrationPath: String { repositoryRoot.appendingPathComponent(".cache/fixtures/mnist/calib").path }

    static func graph() throws -> Graph { try ONNXModel.load(contentsOf: URL(fileURLWithPath: modelPath)) }

    /// The first `samples` calibration digits.
    static func calibration(_ graph: Graph, samples: Int) throws -> CalibrationSet {
        try CalibrationSet(directory: calibrationPath, graph: graph).prefix(samples)
    }

    static func layers(_ graph: Graph) throws -> [PrunableLayer] {
        PrunableLayer.discover(in: graph, analysis: try StaticAnalysis(graph, inputShapes: ["input": [1, 1, 28, 28]]))
    }

    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("spdy-pruning-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}

/// A seeded linear problem: weights and a Hessian from random correlated inputs.
struct RandomLayerProblem {
    let layout: WeightLayout
    let weights: [Float]
    let hessian: LayerHessian

    init(rows: Int, columns: Int, vectors: Int, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        func normal() -> Float {
            let u = max(rng.nextUnitDouble(), 1e-12), v = rng.nextUnitDouble()
            return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
        // Correlated inputs: x = A z with a random mixing matrix, plus one dead input.
        let mixing = (0..<(columns * columns)).map { _ in normal() }
        var inputs = [Float](repeating: 0, count: vectors * columns)
        for v in 0..<vectors {
            let z = (0..<columns).map { _ in normal() }
            for i in 0..<(columns - 1) {
                var s: Float = 0
                for j in 0..<columns { s += mixing[i * columns + j] * z[j] }
                inputs[v * columns + i] = s
            }
        }
        weights = (0..<(rows * columns)).map { _ in normal() }
        let weight = "w"
        let graph = Graph(name: "linear", inputs: [ValueInfo(name: "x", dataType: .float32, shape: [.fixed(vectors), .fixed(columns)])],
                          outputs: [ValueInfo(name: "y", dataType: .float32, shape: nil)],
                          initializers: [weight: Tensor(shape: [columns, rows], floats: WeightLayout(rows: rows, columns: columns, isTransposed: true).tensorOrder(fromMatrix: weights))],
                          nodes: [Node(name: "mm", opType: "MatMul", inputs: ["x", weight], outputs: ["y"], attributes: [:])],
                          opsetVersion: 17)
        let layer = PrunableLayer.discover(in: graph, analysis: try StaticAnalysis(graph, inputShapes: [:]))[0]
        hessian = try LayerHessian(layer: layer, graph: graph, keepBatches: true)
        try hessian.accumulate(input: Tensor(shape: [vectors, columns], floats: inputs))
        layout = hessian.layout
    }
}
