import Testing
import SPDYEngine
import SPDYGraph
@testable import SPDYKernels
import SPDYTensor

/// The depthwise kernel (vector interior, scalar edges, fused clamp) against the reference
/// interpreter over the geometries EfficientNet and MobileNets use and awkward ones around them.
@Suite("Depthwise convolution")
struct DepthwiseConvTests {
    struct Geometry: CustomStringConvertible, Sendable {
        var size: (h: Int, w: Int), kernel: Int, stride: Int, pads: [Int], dilation: Int
        var description: String { "\(size.h)x\(size.w) k\(kernel) s\(stride) p\(pads) d\(dilation)" }
    }

    static let geometries: [Geometry] = [
        Geometry(size: (17, 29), kernel: 3, stride: 1, pads: [1, 1, 1, 1], dilation: 1),
        Geometry(size: (28, 28), kernel: 3, stride: 2, pads: [0, 0, 1, 1], dilation: 1),
        Geometry(size: (23, 37), kernel: 5, stride: 2, pads: [2, 2, 2, 2], dilation: 1),
        Geometry(size: (14, 14), kernel: 5, stride: 1, pads: [2, 2, 2, 2], dilation: 1),
        Geometry(size: (19, 33), kernel: 3, stride: 3, pads: [1, 0, 1, 2], dilation: 1),
        Geometry(size: (21, 40), kernel: 3, stride: 1, pads: [2, 2, 2, 2], dilation: 2),
        Geometry(size: (5, 6), kernel: 3, stride: 1, pads: [1, 1, 1, 1], dilation: 1),
        Geometry(size: (9, 12), kernel: 5, stride: 2, pads: [0, 0, 0, 0], dilation: 1),
    ]

    @Test("equals the reference with and without a fused Clip", arguments: geometries)
    func matchesReference(geometry: Geometry) throws {
        let channels = 6, batch = 2
        let k = geometry.kernel
        let input = [batch, channels, geometry.size.h, geometry.size.w]
        var generator = VerifierRandom(seed: UInt64(geometry.size.w * 131 + k))
        let x = Tensor(shape: input, floats: generator.values(input.reduce(1, *)))
        let weight = Tensor(shape: [channels, 1, k, k], floats: generator.values(channels * k * k))
        let bias = Tensor(shape: [channels], floats: generator.values(channels))
        for clipped in [false, true] {
            var nodes = [Node(name: "dw", opType: "Conv", inputs: ["x", "w", "b"], outputs: [clipped ? "c" : "y"],
                              attributes: ["group": .int(channels), "kernel_shape": .ints([k, k]),
                                           "strides": .ints([geometry.stride, geometry.stride]), "pads": .ints(geometry.pads),
                                           "dilations": .ints([geometry.dilation, geometry.dilation])])]
            var initializers = ["w": weight, "b": bias]
            if clipped {
                initializers["lo"] = Tensor(scalar: 0)
                initializers["hi"] = Tensor(scalar: 0.75)
                nodes.append(Node(name: "clip", opType: "Clip", inputs: ["c", "lo", "hi"], outputs: ["y"]))
            }
            let graph = Graph(name: "depthwise", inputs: [ValueInfo(name: "x", dataType: .float32, shape: input.map(Dim.fixed))],
                              outputs: [ValueInfo(name: "y", dataType: .float32, shape: nil)],
                              initializers: initializers, nodes: nodes, opsetVersion: 13)
            let want = try #require(try ReferenceInterpreter.run(graph, feeds: ["x": x])["y"])
            for threads in [1, 2] {
                let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": input], options: EngineOptions(threads: threads))
                let got = try #require(try plan.run(["x": x])["y"])
                #expect(got.shape == want.shape)
                #expect(maxAbsDifference(got, want) <= 1e-5, "\(geometry) clip \(clipped) threads \(threads)")
            }
        }
    }
}
