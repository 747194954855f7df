import Foundation
import SPDYGraph
import SPDYTensor

/// Choices for building a BERT graph.
public struct BERTImportOptions: Sendable, Equatable {
    /// Also output `pooler_output` (tanh(dense(hidden[:, 0]))) when the checkpoint has pooler
    /// weights; an error when asked for and absent.
    public var includePooler: Bool
    /// nil (default): the `sequence` axis stays symbolic and position embeddings are sliced to it
    /// with Shape → Gather → Slice. A number fixes the sequence length in the declared input
    /// shapes and slices the position table with constant bounds (for engines whose static
    /// analysis cannot fold `Shape`).
    public var fixedSequenceLength: Int?

    public init(includePooler: Bool = false, fixedSequenceLength: Int? = nil) {
        self.includePooler = includePooler
        self.fixedSequenceLength = fixedSequenceLength
    }
}

/// Imports a Hugging Face BERT-family checkpoint (`BertModel`: `config.json` +
/// `model.safetensors`) into the IR as a graph of standard ONNX opset-17 nodes.
///
/// Inputs: `input_ids`, `attention_mask`, `token_type_ids`, int64 `[batch, sequence]`.
/// Output: `last_hidden_state`, float32 `[batch, sequence, hidden]` (and `pooler_output`
/// `[batch, hidden]` when asked for). Linear weights are stored transposed to `[in, out]` (MatMul
/// layout) under their Hugging Face names without the optional `bert.` prefix — for example
/// `encoder.layer.0.attention.self.query.weight` — which is the prunable layer's stable name.
/// See docs/bert-import.md.
public enum BERTImporter {
    /// The names of the graph's inputs, in order.
    public static let inputNames = ["input_ids", "attention_mask", "token_type_ids"]
    /// The main output's name.
    public static let outputName = "last_hidden_state"
    /// The pooled output's name (only with `includePooler`).
    public static let pooledOutputName = "pooler_output"
    /// The opset version of the built graph.
    public static let opsetVersion = 17

    /// Reads `config.json` and `model.safetensors` from `folder` and builds the graph.
    public static func importFolder(_ folder: URL, options: BERTImportOptions = BERTImportOptions()) throws -> Graph {
        let config = try BERTConfig(contentsOf: folder.appendingPathComponent("config.json"))
        let weightsURL = folder.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw BERTImportError.unreadableFile(file: weightsURL.path,
                reason: "not found (only safetensors checkpoints are supported; pytorch_model.bin is not)")
        }
        let weights: [String: Tensor]
        do { weights = try SafeTensors.read(contentsOf: weightsURL) } catch let error as TensorIOError {
            throw BERTImportError.unreadableFile(file: weightsURL.path, reason: error.reason)
        }
        var graph = try build(config: config, weights: weights, options: options, source: weightsURL.path)
        graph.metadata["source"] = folder.path
        return graph
    }

    /// Builds the graph from a parsed config and the checkpoint's tensors (names with or without
    /// the `bert.` prefix; LayerNorm `gamma`/`beta` accepted for `weight`/`bias`). `source`
    /// names the weights file in errors.
    public static func build(config: BERTConfig, weights: [String: Tensor],
                             options: BERTImportOptions = BERTImportOptions(),
                             source: String = "model.safetensors") throws -> Graph {
        try config.validate()
        if let s = options.fixedSequenceLength, s <= 0 || s > config.maxPositionEmbeddings {
            throw BERTImportError.badConfig(file: source, key: "max_position_embeddings",
                reason: "fixed sequence length \(s) is outside 1...\(config.maxPositionEmbeddings)")
        }
        let canonical = canonicalWeights(weights)
        try checkPositionIDs(canonical, source: source)
        let checked = try BERTWeightLayout(config: config, includePooler: options.includePooler)
            .checked(canonical, source: source)
        var builder = BERTGraphBuilder(config: config, weights: checked, options: options)
        return builder.build()
    }

    /// The checkpoint's tensors under `BertModel`'s own names: a leading `bert.` is dropped
    /// (checkpoints saved from task heads such as `BertForMaskedLM`), and old-style LayerNorm
    /// `gamma`/`beta` become `weight`/`bias`. Where both spellings exist the unprefixed one wins.
    static func canonicalWeights(_ weights: [String: Tensor]) -> [String: Tensor] {
        func canonicalName(_ name: String) -> String {
            var n = name.hasPrefix("bert.") ? String(name.dropFirst(5)) : name
            if n.hasSuffix("LayerNorm.gamma") { n = String(n.dropLast(5)) + "weight" }
            if n.hasSuffix("LayerNorm.beta") { n = String(n.dropLast(4)) + "bias" }
            return n
        }
        var result: [String: Tensor] = [:]
        // Prefixed names first, so unprefixed ones overwrite them.
        let ordered = weights.keys.sorted { a, b in
            let pa = a.hasPrefix("bert."), pb = b.hasPrefix("bert.")
            return pa != pb ? pa : a < b
        }
        for name in ordered {
            result[canonicalName(name)] = weights[name]
        }
        return result
    }

    /// `embeddings.position_ids`, when a checkpoint carries it, must be the default arange: the
    /// graph slices the position table from row 0.
    static func checkPositionIDs(_ weights: [String: Tensor], source: String) throws {
        guard let ids = weights["embeddings.position_ids"] else { return }
        let values = ids.doubles
        guard values.enumerated().allSatisfy({ Double($0.offset) == $0.element }) else {
            throw BERTImportError.unsupported(file: source, feature: "embeddings.position_ids", value: "not 0, 1, 2, …",
                                              supported: ["the default arange"])
        }
    }
}
