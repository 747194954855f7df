import Testing
import SPDYEngine
import SPDYGraph
@testable import SPDYKernels
import SPDYTensor

/// The engine's MaxPool (vector vertical pass, vector horizontal pass for strides 1 and 2)
/// against the reference interpreter over ResNet's, YOLO's and awkward geometries.
@Suite("MaxPool")
struct MaxPoolTests {
    struct Geometry: CustomStringConvertible, Sendable {
        var size: (h: Int, w: Int), kernel: Int, stride: Int, pads: [Int], dilation: Int, ceil: Bool
        var description: String { "\(size.h)x\(size.w) k\(kernel) s\(stride) p\(pads) d\(dilation) ceil \(ceil)" }
    }

    static let geometries: [Geometry] = [
        Geometry(size: (112, 112), kernel: 3, stride: 2, pads: [1, 1, 1, 1], dilation: 1, ceil: false),  // ResNet stem
        Geometry(size: (20, 20), kernel: 5, stride: 1, pads: [2, 2, 2, 2], dilation: 1, ceil: false),    // YOLO SPPF
        Geometry(size: (17, 29), kernel: 3, stride: 2, pads: [0, 0, 0, 0], dilation: 1, ceil: true),
        Geometry(size: (9, 41), kernel: 2, stride: 2, pads: [0, 1, 1, 0], dilation: 1, ceil: false),
        Geometry(size: (13, 23), kernel: 3, stride: 3, pads: [1, 1, 1, 1], dilation: 1, ceil: false),
        Geometry(size: (15, 37), kernel: 3, stride: 1, pads: [2, 2, 2, 2], dilation: 2, ceil: false),
        Geometry(size: (3, 4), kernel: 3, stride: 1, pads: [2, 2, 2, 2], dilation: 1, ceil: false),
    ]

    @Test("equals the reference", arguments: geometries)
    func matchesReference(geometry: Geometry) throws {
        let input = [2, 3, geometry.size.h, geometry.size.w]
        var generator = VerifierRandom(seed: UInt64(geometry.size.w * 31 + geometry.kernel))
        let x = Tensor(shape: input, floats: generator.values(input.reduce(1, *)).map { $0 - 2 })  // negative: padding must not win
        let node = Node(name: "pool", opType: "MaxPool", inputs: ["x"], outputs: ["y"],
                        attributes: ["kernel_shape": .ints([geometry.kernel, geometry.kernel]),
                                     "strides": .ints([geometry.stride, geometry.stride]), "pads": .ints(geometry.pads),
                                     "dilations": .ints([geometry.dilation, geometry.dilation]), "ceil_mode": .int(geometry.ceil ? 1 : 0)])
        let graph = Graph(name: "maxpool", inputs: [ValueInfo(name: "x", dataType: .float32, shape: input.map(Dim.fixed))],
                          outputs: [ValueInfo(name: "y", dataType: .float32, shape: nil)],
                          initializers: [:], nodes: [node], opsetVersion: 13)
        let want = try #require(try ReferenceInterpreter.run(graph, feeds: ["x": x])["y"])
        for threads in [1, 2] {
            let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": input], options: EngineOptions(threads: threads))
            #expect(plan.stepDescriptions.map(\.kernel).allSatisfy { $0.hasPrefix("MaxPool") })
            let got = try #require(try plan.run(["x": x])["y"])
            #expect(got.shape == want.shape)
            #expect(maxAbsDifference(got, want) == 0, "\(geometry) threads \(threads)")
        }
    }
}
