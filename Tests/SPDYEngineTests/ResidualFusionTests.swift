import Testing
import SPDYEngine
import SPDYGraph
@testable import SPDYKernels
import SPDYTensor

/// `Relu(Conv(x) + shortcut)` (ResNet's block end) compiled into one convolution step that adds
/// the shortcut before its ReLU, on every path that stores convolution outputs: dense (per image,
/// images grouped into one product, one image split over threads, blocked im2col; packed kernel
/// and OpenBLAS) and sparse (pointwise, direct, strided), against the reference interpreter.
/// The instruction set and the dense kernel are chosen for the test's task only (`$override`).
@Suite("Residual Add fused into convolutions")
struct ResidualFusionTests {
    struct Case: CustomStringConvertible, Sendable {
        var kernel: Int, stride: Int, pad: Int, size: Int, batch: Int, sparse: Bool, inChannels = 12
        var description: String {
            "\(inChannels)ch k\(kernel) s\(stride) p\(pad) \(size)x\(size) batch \(batch) \(sparse ? "sparse" : "dense")"
        }
    }

    static let cases: [Case] = [1, 3].flatMap { kernel in
        [1, 2].flatMap { stride in
            [(size: 13, batch: 1), (size: 9, batch: 5), (size: 30, batch: 3)].flatMap { shape in
                [false, true].map { sparse in
                    Case(kernel: kernel, stride: stride, pad: kernel / 2, size: shape.size, batch: shape.batch, sparse: sparse)
                }
            }
        }
    } + [(1, 40, 1), (2, 81, 1), (1, 37, 2)].map { stride, size, batch in
        // Patch matrices over ConvStep.patchBudget: unfolded a block of positions at a time.
        Case(kernel: 3, stride: stride, pad: 1, size: size, batch: batch, sparse: false, inChannels: 64)
    }

    @Test("equals the reference, and the Add runs inside the convolution step", arguments: cases)
    func fusedResidual(_ c: Case) throws {
        let inChannels = c.inChannels, outChannels = 20
        let outSize = (c.size + 2 * c.pad - c.kernel) / c.stride + 1
        let input = [c.batch, inChannels, c.size, c.size], output = [c.batch, outChannels, outSize, outSize]
        var generator = VerifierRandom(seed: UInt64(c.kernel * 1000 + c.stride * 100 + c.size))
        var weights = generator.values(outChannels * inChannels * c.kernel * c.kernel)
        if c.sparse {  // 90% zeros, one output channel empty
            for i in weights.indices where i % 10 != 3 || i < inChannels * c.kernel * c.kernel { weights[i] = 0 }
        }
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                 attributes: ["kernel_shape": .ints([c.kernel, c.kernel]), "strides": .ints([c.stride, c.stride]),
                              "pads": .ints(Array(repeating: c.pad, count: 4))]),
            Node(name: "add", opType: "Add", inputs: ["shortcut", "c"], outputs: ["s"]),
            Node(name: "relu", opType: "Relu", inputs: ["s"], outputs: ["y"]),
        ]
        let graph = Graph(name: "residual",
                          inputs: [ValueInfo(name: "x", dataType: .float32, shape: input.map(Dim.fixed)),
                                   ValueInfo(name: "shortcut", dataType: .float32, shape: output.map(Dim.fixed))],
                          outputs: [ValueInfo(name: "y", dataType: .float32, shape: nil)],
                          initializers: ["w": Tensor(shape: [outChannels, inChannels, c.kernel, c.kernel], floats: weights),
                                         "b": Tensor(shape: [outChannels], floats: generator.values(outChannels))],
                          nodes: nodes, opsetVersion: 13)
        let feeds = ["x": Tensor(shape: input, floats: generator.values(input.reduce(1, *))),
                     "shortcut": Tensor(shape: output, floats: generator.values(output.reduce(1, *)))]
        let want = try #require(try ReferenceInterpreter.run(graph, feeds: feeds)["y"])
        // Dense products on both kernels (the process's OpenBLAS decides which plans get).
        let variants = KernelInstructionSet.available.flatMap { isa in
            [DenseProductChoice.packed, .openblas].map { (isa, $0) }
        }
        for threads in [1, 2] {
            for (isa, product) in variants {
                // For this task only: the plan keeps the kernels it was built with.
                let plan = try KernelInstructionSet.$override.withValue(isa) {
                    try DenseProductChoice.$override.withValue(product) {
                        try ExecutionPlan(graph: graph, options: EngineOptions(threads: threads))
                    }
                }
                let kernels = plan.stepDescriptions.map(\.kernel)
                #expect(kernels.count == 1 && kernels[0].contains("+residual+Relu"), "\(c): \(kernels)")
                #expect(kernels[0].contains("sparse") == c.sparse, "\(c): \(kernels)")
                #expect(c.sparse || kernels[0].contains(product.rawValue), "\(c): \(kernels)")
                let got = try #require(try plan.run(feeds)["y"])
                #expect(got.shape == want.shape)
                #expect(maxAbsDifference(got, want) <= 1e-4, "\(c) threads \(threads) \(isa) \(product)")
            }
        }
    }

    @Test("a shortcut computed after the convolution, a broadcast one or a GELU after the sum is not fused")
    func notFused() throws {
        let x = [2, 4, 6, 6]
        var generator = VerifierRandom(seed: 7)
        func conv(_ name: String, _ input: String, _ output: String) -> Node {
            Node(name: name, opType: "Conv", inputs: [input, "w"], outputs: [output], attributes: ["kernel_shape": .ints([1, 1])])
        }
        // Both convolutions read x; the first one's Add partner is computed after it, so only the
        // second (emitted last) takes the Add; a per-channel bias-shaped Add is not a residual.
        let graph = Graph(name: "blocks", inputs: [ValueInfo(name: "x", dataType: .float32, shape: x.map(Dim.fixed))],
                          outputs: [ValueInfo(name: "y", dataType: .float32, shape: nil)],
                          initializers: ["w": Tensor(shape: [4, 4, 1, 1], floats: generator.values(16)),
                                         "v": Tensor(shape: [1, 4, 1, 1], floats: generator.values(4))],
                          nodes: [conv("a", "x", "ca"), conv("b", "x", "cb"),
                                  Node(name: "sum", opType: "Add", inputs: ["ca", "cb"], outputs: ["s"]),
                                  Node(name: "relu", opType: "Relu", inputs: ["s"], outputs: ["r"]),
                                  conv("c", "r", "cc"),
                                  Node(name: "bias", opType: "Add", inputs: ["cc", "v"], outputs: ["y"])],
                          opsetVersion: 13)
        let plan = try ExecutionPlan(graph: graph, options: EngineOptions(threads: 2))
        let kernels = plan.stepDescriptions.map(\.kernel)
        #expect(kernels.count == 4, "\(kernels)")
        #expect(kernels.filter { $0.contains("+residual") }.count == 1, "\(kernels)")
        #expect(plan.stepDescriptions.first { $0.kernel.contains("+residual") }?.node == "b")
        let feeds = ["x": Tensor(shape: x, floats: generator.values(x.reduce(1, *)))]
        let want = try #require(try ReferenceInterpreter.run(graph, feeds: feeds)["y"])
        let got = try #require(try plan.run(feeds)["y"])
        #expect(maxAbsDifference(got, want) <= 1e-5)
    }
}
