import SPDYGraph
import SPDYTensor

extension Graph {
    /// The default name of the sentence-embedding output.
    public static let sentenceEmbeddingName = "sentence_embedding"

    /// Appends the sentence-transformers head — mean pooling of `hiddenState` over the tokens
    /// whose `attentionMask` is 1, then (with `normalize`) L2 normalisation — as standard ONNX
    /// opset-13+ nodes, and adds `output` (float32 `[batch, hidden]`) to the graph's outputs.
    ///
    /// `hiddenState` is `[batch, sequence, hidden]` (e.g. `last_hidden_state`); `attentionMask` an
    /// integer `[batch, sequence]` input. Matches sentence-transformers' Pooling(mean) →
    /// Normalize: sum(h · m) / max(sum(m), 1e-9), then x / max(‖x‖₂, 1e-12).
    public mutating func appendSentenceEmbedding(hiddenState: String = "last_hidden_state",
                                                 attentionMask: String = "attention_mask",
                                                 output: String = Graph.sentenceEmbeddingName,
                                                 normalize: Bool = true) throws {
        let produced = Set(nodes.flatMap(\.outputs)).union(inputs.map(\.name)).union(initializers.keys)
        guard produced.contains(hiddenState) else { throw BERTImportError.noSuchValue(graph: name, value: hiddenState) }
        guard inputs.contains(where: { $0.name == attentionMask }) else {
            throw BERTImportError.noSuchValue(graph: name, value: attentionMask)
        }
        guard !produced.contains(output) else {
            throw BERTImportError.badConfig(file: name, key: output, reason: "the graph already defines a value of this name")
        }
        var asm = GraphAssembler(existing: self)
        let p = "pooling"
        let axis1 = asm.int64s("\(p)/const/axes_1", [1])
        let mask = asm.add("Cast", [attentionMask], name: "\(p)/Cast", attributes: ["to": .int(1)])
        let mask3 = asm.add("Unsqueeze", [mask, asm.int64s("\(p)/const/axes_2", [2])], name: "\(p)/Unsqueeze")
        let masked = asm.add("Mul", [hiddenState, mask3], name: "\(p)/Mul")
        let summed = asm.add("ReduceSum", [masked, axis1], name: "\(p)/ReduceSum", attributes: ["keepdims": .int(0)])
        let count = asm.add("ReduceSum", [mask3, axis1], name: "\(p)/ReduceSum_1", attributes: ["keepdims": .int(0)])
        let clamped = asm.add("Max", [count, asm.scalar("\(p)/const/min_count", 1e-9)], name: "\(p)/Max")
        var result = asm.add("Div", [summed, clamped], name: "\(p)/Div", output: normalize ? nil : output)
        if normalize {
            let n = "normalize"
            let squares = asm.add("Mul", [result, result], name: "\(n)/Mul")
            let sum = asm.add("ReduceSum", [squares, axis1], name: "\(n)/ReduceSum", attributes: ["keepdims": .int(1)])
            let norm = asm.add("Sqrt", [sum], name: "\(n)/Sqrt")
            let safe = asm.add("Max", [norm, asm.scalar("\(n)/const/min_norm", 1e-12)], name: "\(n)/Max")
            result = asm.add("Div", [result, safe], name: "\(n)/Div", output: output)
        }
        nodes = asm.nodes
        initializers = asm.initializers
        let hiddenShape = (outputs.first { $0.name == hiddenState }?.shape).flatMap { $0.count == 3 ? $0 : nil }
        let batchDim = hiddenShape?[0] ?? .symbolic("batch")
        let widthDim = hiddenShape?[2] ?? .symbolic("hidden")
        outputs.append(ValueInfo(name: result, dataType: .float32, shape: [batchDim, widthDim]))
    }
}
