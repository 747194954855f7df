import Testing
import SPDYEngine
import SPDYGraph
@testable import SPDYKernels
import SPDYTensor

/// The plan compiler's channel-blocked (NCHW16c) regions on a small graph with the awkward
/// cases around ResNet's: a stem reading NCHW, a MaxPool, folded BatchNorm, a residual `Add`
/// fused into a convolution and one that is not (an Add of two ReLU outputs), a standalone
/// `Relu`, a convolution whose 24 channels do not fill blocks, and global pooling. A graph output
/// or an observed value inside the region stays NCHW, and so does the region around it. Outputs
/// must equal the reference interpreter's with blocking on and off, at 1 and 2 threads (and with the AVX2 kernels), and with
/// an intermediate value observed (which must stay NCHW and readable). The fused residual Add
/// writes its sum over the residual's buffer, unless a later node still reads the residual.
@Suite("Channel-blocked plans", .enabled(if: DirectConvolution.isAvailable))
struct ChannelBlockingTests {
    static func graph(outputs: [String], laterResidualReader: Bool = false) -> Graph {
        var random = VerifierRandom(seed: 1234)
        var initializers: [String: Tensor] = [:]
        var nodes: [Node] = []
        func conv(_ name: String, _ input: String, _ output: String, _ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1,
                  batchNorm: Bool = false) {
            initializers["\(name).w"] = Tensor(shape: [cout, cin, k, k], floats: random.values(cout * cin * k * k).map { $0 * 0.3 })
            initializers["\(name).b"] = Tensor(shape: [cout], floats: random.values(cout))
            let convOut = batchNorm ? "\(name).raw" : output
            nodes.append(Node(name: name, opType: "Conv", inputs: [input, "\(name).w", "\(name).b"], outputs: [convOut],
                              attributes: ["kernel_shape": .ints([k, k]), "strides": .ints([stride, stride]),
                                           "pads": .ints([k / 2, k / 2, k / 2, k / 2])]))
            if batchNorm {
                initializers["\(name).scale"] = Tensor(shape: [cout], floats: random.values(cout).map { 1 + 0.2 * $0 })
                initializers["\(name).shift"] = Tensor(shape: [cout], floats: random.values(cout))
                initializers["\(name).mean"] = Tensor(shape: [cout], floats: random.values(cout))
                initializers["\(name).var"] = Tensor(shape: [cout], floats: random.values(cout).map { 1 + abs($0) })
                nodes.append(Node(name: "\(name).bn", opType: "BatchNormalization",
                                  inputs: [convOut, "\(name).scale", "\(name).shift", "\(name).mean", "\(name).var"], outputs: [output]))
            }
        }
        func relu(_ input: String, _ output: String) { nodes.append(Node(name: "relu.\(output)", opType: "Relu", inputs: [input], outputs: [output])) }
        func add(_ a: String, _ b: String, _ output: String) { nodes.append(Node(name: "add.\(output)", opType: "Add", inputs: [a, b], outputs: [output])) }

        conv("stem", "x", "s", 3, 32, 7, stride: 2, batchNorm: true)
        relu("s", "s.r")
        nodes.append(Node(name: "pool", opType: "MaxPool", inputs: ["s.r"], outputs: ["p"],
                          attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]))
        // A bottleneck whose residual Add is fused into its last convolution.
        conv("a1", "p", "a1.o", 32, 16, 1, batchNorm: true)
        relu("a1.o", "a1.r")
        conv("a2", "a1.r", "a2.o", 16, 32, 3, batchNorm: true)
        add("a2.o", "p", "a.sum")
        relu("a.sum", "a")
        // An Add of two ReLU outputs: fused into neither convolution, it runs as its own step on
        // blocked data.
        conv("b2", "a", "b2.o", 32, 48, 3, stride: 2)
        relu("b2.o", "b2.r")
        conv("b.short", "a", "b.short.o", 32, 48, 1, stride: 2)
        relu("b.short.o", "b.short.r")
        add("b2.r", "b.short.r", "b.sum")
        relu("b.sum", "b")
        // 24 channels do not fill blocks: this convolution runs NCHW, beside the region.
        conv("c", "x", "c.o", 3, 24, 3)
        nodes.append(Node(name: "gap.c", opType: "GlobalAveragePool", inputs: ["c.o"], outputs: ["gc"]))
        conv("d", "b", "d.o", 48, 64, 1)
        relu("d.o", "d.r")
        nodes.append(Node(name: "gap.d", opType: "GlobalAveragePool", inputs: ["d.r"], outputs: ["gd"]))
        if laterResidualReader {
            // "p", the residual of a2, read again after a2 has run.
            nodes.append(Node(name: "gap.p", opType: "GlobalAveragePool", inputs: ["p"], outputs: ["gp"]))
        }
        return Graph(name: "blocked", inputs: [ValueInfo(name: "x", dataType: .float32, shape: [2, 3, 29, 27].map(Dim.fixed))],
                     outputs: outputs.map { ValueInfo(name: $0, dataType: .float32, shape: nil) },
                     initializers: initializers, nodes: nodes, opsetVersion: 13)
    }

    @Test("equals the reference interpreter with blocking on and off")
    func matchesReference() throws {
        var random = VerifierRandom(seed: 99)
        let x = Tensor(shape: [2, 3, 29, 27], floats: random.values(2 * 3 * 29 * 27))
        // Outputs, and observed values (a graph output "a" and an observed "a1.r" stay NCHW).
        for (outputs, observed) in [(["gc", "gd"], [String]()), (["gc", "gd", "a"], []), (["gc", "gd"], ["a1.r"]), (["gc", "gd", "gp"], [])] {
            let later = outputs.contains("gp")
            let graph = Self.graph(outputs: outputs, laterResidualReader: later)
            let want = try ReferenceInterpreter.run(Self.graph(outputs: outputs + observed, laterResidualReader: later), feeds: ["x": x])
            for blocking in [false, true] {
                for (threads, isa) in [(1, KernelInstructionSet.available.last!), (2, KernelInstructionSet.available.last!), (2, .avx2)] {
                    let plan = try KernelInstructionSet.$override.withValue(isa) {
                        try ExecutionPlan(graph: graph, inputShapes: ["x": [2, 3, 29, 27]],
                                          options: EngineOptions(threads: threads, observed: Set(observed), channelBlocking: blocking))
                    }
                    let got = try plan.run(["x": x])
                    let label = "blocking \(blocking) threads \(threads) \(isa) outputs \(outputs) observed \(observed)"
                    for name in outputs + observed {
                        let a = try observed.contains(name) ? plan.value(named: name) : #require(got[name])
                        let b = try #require(want[name])
                        let scale = b.floats.map(abs).max() ?? 1
                        #expect(a.shape == b.shape && maxAbsDifference(a, b) <= 1e-4 * max(1, scale), "\(name) \(label)")
                    }
                    let kernels = plan.stepDescriptions.map(\.kernel)
                    #expect(kernels.contains { $0.contains("direct") } == blocking, "\(kernels)")
                    if blocking && observed.isEmpty && !outputs.contains("a") {
                        #expect(kernels.contains { $0.contains("+residual in place") } == !later, "\(kernels)")
                    }
                    guard blocking && observed.isEmpty && outputs == ["gc", "gd"] else { continue }
                    // The stem reads the image NCHW and writes blocks for the MaxPool; "c" (24
                    // channels) runs NCHW.
                    #expect(kernels.contains { $0.hasPrefix("Conv 7x7/2 direct nchw→nchw16c") }, "\(kernels)")
                    #expect(kernels.contains { $0.hasPrefix("MaxPool 3x3/2 nchw16c") }, "\(kernels)")
                    #expect(kernels.contains { $0.hasPrefix("GlobalAveragePool nchw16c") }, "\(kernels)")
                    #expect(kernels.contains { $0.contains("residual") && $0.contains("direct nchw16c→nchw16c") }, "\(kernels)")
                    #expect(kernels.filter { $0.contains("direct nchw16c→nchw16c") }.count == 5, "\(kernels)")
                    #expect(kernels.filter { $0.hasPrefix("Conv 3x3/1") && !$0.contains("direct") }.count == 1, "\(kernels)")
                }
            }
        }
    }
}
