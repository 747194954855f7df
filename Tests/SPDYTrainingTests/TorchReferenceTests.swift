import Foundation
import Testing
import SPDYGraph
import SPDYONNX
import SPDYTensor
@testable import SPDYTraining

/// Whole models against PyTorch autograd (scripts/fixtures/export_training_reference.py, float64
/// gradients): the same loss on the same inputs gives the same loss value (relative 1e-4) and,
/// for every trainable parameter, the same gradient: max |g − g_torch| ≤ 5e-4·max|g_torch| +
/// 1e-5·(largest gradient in the model). Measured (2026-12-01): relative errors ≤ 3e-6 on the demo
/// ResNet and MiniLM, ≤ 7e-5 on EfficientNet-Lite0's first layers (PyTorch's own float32 gradients
/// are 4e-3 off there); the absolute term covers gradients that are zero in exact arithmetic
/// (attention key biases: softmax ignores a per-row shift).
@Suite("Gradients match PyTorch on real models", .serialized)
struct TorchReferenceTests {
    /// Compares every trainable parameter's gradient with the reference; returns how many.
    @discardableResult
    func compareGradients(_ executor: TrainingExecutor, _ reference: TrainingReference, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        var pairs: [(String, [Float], [Float])] = []
        for name in executor.parameters.trainableNames {
            guard let expected = try reference.gradient(name) else { continue }
            pairs.append((name, executor.parameters.gradient(name)!.floats, expected))
        }
        let global = pairs.flatMap(\.2).reduce(Float(0)) { max($0, abs($1)) }
        for (name, got, expected) in pairs {
            let scale = expected.reduce(Float(0)) { max($0, abs($1)) }
            let worst = zip(got, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            let difference = zip(got, expected).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            let norm = expected.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(got.count == expected.count && worst <= 5e-4 * scale + 1e-5 * global,
                    "\(reference.manifest.name) \(name): max |diff| \(worst), gradient scale \(scale), model scale \(global), ‖diff‖/‖g‖ \(difference / max(norm, 1e-30))",
                    sourceLocation: sourceLocation)
        }
        return pairs.count
    }

    func expectLoss(_ value: Double, _ reference: TrainingReference, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = reference.manifest.loss_value
        #expect(abs(value - expected) <= 1e-4 * abs(expected), "\(reference.manifest.name) loss \(value), PyTorch \(expected)",
                sourceLocation: sourceLocation)
    }

    @Test("demo ResNet: gAP's layer-output loss, 50% magnitude masks, BatchNorm frozen",
          .enabled(if: TrainingReference.available("mnist_gap"), Comment(rawValue: TrainingReference.missing)))
    func demoGAP() throws {
        let reference = try TrainingReference("mnist_gap")
        let graph = try ONNXModel.load(contentsOf: reference.modelURL)
        let layers = try #require(reference.manifest.layers)
        let feeds = try reference.inputs()
        let teacher = try TrainingExecutor(graph: graph, options: TrainingOptions(threads: 2))
        let targets = try teacher.forward(feeds, retaining: Set(layers), differentiable: false)
        let student = try TrainingExecutor(graph: graph, options: TrainingOptions(threads: 2))
        for (name, file) in try #require(reference.manifest.masks) { try student.parameters.setMask(name, try reference.array(file)) }
        let pass = try student.forward(feeds, retaining: Set(layers))
        var loss = 0.0
        var seeds: [String: Tensor] = [:]
        for layer in layers {
            let l = try Loss.normalizedDistance(pass.value(layer)!, target: targets.value(layer)!)
            loss += l.value
            seeds[layer] = l.gradient
        }
        try student.backward(pass, seeds: seeds)
        expectLoss(loss, reference)
        #expect(try compareGradients(student, reference) == student.parameters.trainableNames.count)
    }

    @Test("demo ResNet: cross-entropy, BatchNorm with batch statistics (and its running statistics)",
          .enabled(if: TrainingReference.available("mnist_train"), Comment(rawValue: TrainingReference.missing)))
    func demoBatchStatistics() throws {
        let reference = try TrainingReference("mnist_train")
        let graph = try ONNXModel.load(contentsOf: reference.modelURL)
        let executor = try TrainingExecutor(graph: graph, options: TrainingOptions(threads: 2, batchNorm: .batchStatistics(momentum: nil)))
        let pass = try executor.forward(try reference.inputs())
        let labels = try reference.array(reference.manifest.arrays["labels"]!).integers.map { Int($0) }
        let l = try Loss.crossEntropy(logits: pass.value("logits")!, labels: labels)
        try executor.backward(pass, seeds: ["logits": l.gradient])
        expectLoss(l.value, reference)
        #expect(try compareGradients(executor, reference) == executor.parameters.trainableNames.count)
        let statistics = try #require(reference.manifest.statistics)
        #expect(!statistics.isEmpty)
        for (name, file) in statistics {
            let expected = try reference.array(file).floats, got = executor.parameters.value(name)!.floats
            let worst = zip(got, expected).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            #expect(worst <= 1e-4, "running statistic \(name): relative difference \(worst)")
        }
    }

    @Test("EfficientNet-Lite0: cross-entropy, depthwise convolutions, ReLU6, explicit Pad",
          .enabled(if: TrainingReference.available("efficientnet"), Comment(rawValue: TrainingReference.missing)))
    func efficientNet() throws {
        let reference = try TrainingReference("efficientnet")
        let graph = try ONNXModel.load(contentsOf: reference.modelURL)
        let executor = try TrainingExecutor(graph: graph, options: TrainingOptions(threads: 2))
        let output = try #require(reference.manifest.output)
        let pass = try executor.forward(try reference.inputs())
        let labels = try reference.array(reference.manifest.arrays["labels"]!).integers.map { Int($0) }
        let l = try Loss.crossEntropy(logits: pass.value(output)!, labels: labels)
        try executor.backward(pass, seeds: [output: l.gradient])
        expectLoss(l.value, reference)
        #expect(try compareGradients(executor, reference) == executor.parameters.trainableNames.count)
    }

    @Test("MiniLM: embeddings, decomposed LayerNorm, attention, GELU (erf); a projection of the hidden states",
          .enabled(if: TrainingReference.available("minilm"), Comment(rawValue: TrainingReference.missing)))
    func miniLM() throws {
        let reference = try TrainingReference("minilm")
        let graph = try ONNXModel.load(contentsOf: reference.modelURL)
        let executor = try TrainingExecutor(graph: graph, options: TrainingOptions(threads: 2))
        let output = try #require(reference.manifest.output)
        let pass = try executor.forward(try reference.inputs())
        let r = try reference.array(reference.manifest.arrays["projection"]!)
        let hidden = pass.value(output)!
        let loss = zip(hidden.floats, r.floats).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        try executor.backward(pass, seeds: [output: r])
        expectLoss(loss, reference)
        let compared = try compareGradients(executor, reference)
        // Embeddings (5) and encoder layers 0 and 5 (16 each); layers 1–4 are not in the fixture.
        #expect(compared == 37, "\(compared) parameters compared")
        #expect(executor.parameters.role(of: "embeddings.word_embeddings.weight") == .embedding)
    }
}
