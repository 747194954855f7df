import Foundation
import Testing
import SPDYEngine
import SPDYGraph
import SPDYKernels
import SPDYONNX
import SPDYTensor

/// Whole models against ONNX Runtime: every output within 1e-4 of its scale (the output's largest
/// absolute value), at one and two threads.
@Suite("Engine matches ONNX Runtime on real models", .serialized)
struct ModelReferenceTests {
    static let tolerance: Float = 1e-4

    func check(_ name: String, threads: Int, channelBlocking: Bool = EngineOptions.channelBlockingDefault) throws -> [String: Tensor] {
        let fixture = try ReferenceFixture(name)
        let graph = try ONNXModel.load(contentsOf: fixture.modelURL)
        let feeds = try fixture.inputs()
        let plan = try ExecutionPlan(graph: graph, inputShapes: feeds.mapValues(\.shape),
                                     options: EngineOptions(threads: threads, channelBlocking: channelBlocking))
        let outputs = try plan.run(feeds)
        for (outputName, expected) in try fixture.outputs() {
            let got = try #require(outputs[outputName], "engine lacks output \(outputName)")
            let scale = max(maxAbs(expected), 1e-6)
            let diff = maxAbsDifference(got, expected)
            #expect(diff <= Self.tolerance * scale,
                    "\(name) output \(outputName) at \(threads) threads: max |diff| \(diff) > \(Self.tolerance) × scale \(scale)")
        }
        return outputs
    }

    @Test("torchvision ResNet-18", arguments: [1, 2])
    func resnet18(threads: Int) throws { _ = try check("resnet18", threads: threads) }

    @Test("torchvision ResNet-50", arguments: [1, 2])
    func resnet50(threads: Int) throws { _ = try check("resnet50", threads: threads) }

    /// Direct NCHW16c convolutions off: im2col/1×1 products on OpenBLAS or the packed kernel.
    @Test("torchvision ResNet-50 and EfficientNet-Lite0 without channel blocking")
    func withoutChannelBlocking() throws {
        _ = try check("resnet50", threads: 2, channelBlocking: false)
        _ = try check("efficientnet_lite0", threads: 2, channelBlocking: false)
    }

    /// The AVX2 kernels (the direct convolutions' two-register blocks, as on AMD Zen 3).
    @Test("torchvision ResNet-50 with the AVX2 kernels")
    func resnet50AVX2() throws {
        _ = try KernelInstructionSet.$override.withValue(.avx2) { try check("resnet50", threads: 2) }
    }

    @Test("ddddocr YOLO-style detector", arguments: [1, 2])
    func ddddocr(threads: Int) throws { _ = try check("ddddocr_det", threads: threads) }

    @Test("EfficientNet-Lite0 with ImageNet weights: same top-1 as ONNX Runtime", arguments: [1, 2])
    func efficientnet(threads: Int) throws {
        let outputs = try check("efficientnet_lite0", threads: threads)
        let fixture = try ReferenceFixture("efficientnet_lite0")
        let logits = try #require(outputs["logits"])
        let images = try #require(fixture.manifest.images)
        let classes = logits.shape[1]
        let values = logits.floats
        for (i, image) in images.enumerated() {
            let row = values[(i * classes)..<((i + 1) * classes)]
            let top1 = row.indices.max { row[$0] < row[$1] }! - i * classes
            #expect(top1 == image.top1, "\(image.image): top-1 \(top1), ONNX Runtime \(image.top1)")
        }
    }

    @Test("MiniLM exported by torch", arguments: [1, 2])
    func minilm(threads: Int) throws { _ = try check("minilm", threads: threads) }

    /// A mixed profile, as SPDY produces: every third (or fifth) Linear layer left dense. The
    /// residual stream stays token-blocked across the dense layers (one OpenBLAS product per
    /// block of tokens), against the plain dense, unfused plan. Every third: V and the second FFN
    /// layer dense; every fifth: each of Q, K, V, the output projection and both FFN layers
    /// (GELU) once.
    @Test("MiniLM with some Linear layers left dense: dense layers read and write token blocks",
          arguments: [1, 2], [3, 5])
    func mixedProfileMiniLM(threads: Int, denseEvery: Int) throws {
        let (graph, feeds) = try Self.prunedMiniLM { index in index % denseEvery != 0 }
        let shapes = feeds.mapValues(\.shape)
        let fast = try ExecutionPlan(graph: graph, inputShapes: shapes, options: EngineOptions(threads: threads))
        let kernels = fast.stepDescriptions.map(\.kernel)
        #expect(kernels.filter { $0.contains("sparse") }.count == 36 - 36 / denseEvery)
        #expect(kernels.contains { $0.contains("sgemm") && $0.contains("blocked-in") }, "\(kernels)")
        #expect(kernels.contains { $0.contains("sgemm") && $0.contains("blocked-out") }, "\(kernels)")
        if denseEvery == 5 {
            #expect(kernels.contains { $0.contains("sgemm+bias+GELU blocked-in blocked-out") }, "\(kernels)")
        }
        try Self.expectEqualsUnfusedDensePlan(fast, graph: graph, feeds: feeds, threads: threads)
    }

    /// The pruned-model path (sparse Linear kernels, fused attention, residual LayerNorm; the
    /// residual stream, FFN hidden layer and attention output token-blocked, or with token
    /// blocking off feature-major between the FFN layers) against the plain dense, unfused plan,
    /// which the test above holds to ONNX Runtime.
    @Test("MiniLM with 90% of each Linear weight pruned: fused sparse plan equals the dense unfused plan",
          arguments: [1, 2], [true, false])
    func prunedMiniLM(threads: Int, tokenBlocking: Bool) throws {
        let (graph, feeds) = try Self.prunedMiniLM { _ in true }
        let shapes = feeds.mapValues(\.shape)
        let fast = try ExecutionPlan(graph: graph, inputShapes: shapes,
                                     options: EngineOptions(threads: threads, tokenBlocking: tokenBlocking))
        let kernels = fast.stepDescriptions.map(\.kernel)
        #expect(kernels.filter { $0.contains("sparse") }.count == 36)
        if tokenBlocking {
            // Q, K, V read the residual stream in place and write feature-major for attention;
            // the FFN layers and the LayerNorms between them never see token-major data. (The
            // fixture's 5 × 24 tokens: 120 tokens in one partial block; sequences of 24 do not
            // divide a block, so attention writes feature-major for the output projection.)
            #expect(kernels.filter { $0.hasPrefix("Linear") && $0.hasSuffix("blocked-in fm-out") }.count == 18)
            #expect(kernels.filter { $0.hasPrefix("Linear") && $0.hasSuffix("blocked-in blocked-out") }.count == 12)
            #expect(kernels.filter { $0.hasPrefix("Linear") && $0.hasSuffix("fm-in blocked-out") }.count == 6)
            #expect(kernels.filter { $0.hasPrefix("LayerNorm") && $0.contains("blocked") }.count == 13)
        } else {
            #expect(kernels.contains { $0.hasSuffix("fm-out") } && kernels.contains { $0.hasSuffix("fm-in") })
            #expect(!kernels.contains { $0.contains("blocked") })
        }
        #expect(kernels.contains { $0.hasPrefix("Attention fused") })
        try Self.expectEqualsUnfusedDensePlan(fast, graph: graph, feeds: feeds, threads: threads)
    }

    /// The MiniLM fixture with 90% of the weights of the MatMul layers `prune` selects
    /// (1-based, in graph order) zeroed by magnitude, and its inputs.
    static func prunedMiniLM(_ prune: (Int) -> Bool) throws -> (Graph, [String: Tensor]) {
        let fixture = try ReferenceFixture("minilm")
        var graph = try ONNXModel.load(contentsOf: fixture.modelURL)
        var index = 0
        for node in graph.nodes where node.opType == "MatMul" {
            guard let name = node.input(1), let w = graph.initializers[name], w.rank == 2 else { continue }
            index += 1
            guard prune(index) else { continue }
            let threshold = w.floats.map(abs).sorted()[w.count * 9 / 10]
            graph.initializers[name] = Tensor(shape: w.shape, floats: w.floats.map { abs($0) < threshold ? 0 : $0 })
        }
        return (graph, try fixture.inputs())
    }

    /// `fast`'s outputs equal those of the plain dense, unfused plan of `graph` (which the
    /// MiniLM test holds to ONNX Runtime).
    static func expectEqualsUnfusedDensePlan(_ fast: ExecutionPlan, graph: Graph, feeds: [String: Tensor], threads: Int) throws {
        let plain = try ExecutionPlan(graph: graph, inputShapes: feeds.mapValues(\.shape),
                                      options: EngineOptions(threads: threads, fuse: false, sparseKernels: .never))
        let got = try fast.run(feeds), want = try plain.run(feeds)
        for (name, expected) in want {
            let value = try #require(got[name])
            let scale = max(maxAbs(expected), 1e-6)
            #expect(maxAbsDifference(value, expected) <= Self.tolerance * scale, "\(name): \(maxAbsDifference(value, expected))")
        }
    }
}
