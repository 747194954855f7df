import Foundation

/// The architecture hyper-parameters of a Hugging Face BERT-family checkpoint, read from its
/// `config.json` (the keys `transformers.BertConfig` writes).
public struct BERTConfig: Sendable, Equatable {
    /// The feed-forward activation (`hidden_act`).
    public enum Activation: String, Sendable, CaseIterable {
        /// Exact GELU, 0.5·x·(1 + erf(x/√2)) — HF `gelu`.
        case gelu
        /// Tanh-approximated GELU, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715·x³))) — HF `gelu_new`,
        /// also spelled `gelu_pytorch_tanh`.
        case geluTanh = "gelu_new"
        /// max(0, x).
        case relu
    }

    /// `model_type`; only architectures identical to `BertModel` are accepted.
    public static let supportedModelTypes = ["bert"]

    /// Width of every hidden state (`hidden_size`).
    public var hiddenSize: Int
    /// Attention heads per layer (`num_attention_heads`).
    public var numAttentionHeads: Int
    /// Encoder layers (`num_hidden_layers`).
    public var numHiddenLayers: Int
    /// Feed-forward width (`intermediate_size`).
    public var intermediateSize: Int
    /// LayerNorm epsilon (`layer_norm_eps`).
    public var layerNormEps: Float
    /// Feed-forward activation (`hidden_act`).
    public var hiddenAct: Activation
    /// Rows of the position table, the longest sequence (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Rows of the token-type table (`type_vocab_size`).
    public var typeVocabSize: Int
    /// Rows of the word table (`vocab_size`).
    public var vocabSize: Int
    /// `model_type` as written in config.json.
    public var modelType: String

    /// The width of one attention head, `hiddenSize / numAttentionHeads`.
    public var headSize: Int { hiddenSize / numAttentionHeads }

    /// A configuration from values; `validate` checks their consistency.
    public init(hiddenSize: Int, numAttentionHeads: Int, numHiddenLayers: Int, intermediateSize: Int,
                layerNormEps: Float = 1e-12, hiddenAct: Activation = .gelu, maxPositionEmbeddings: Int = 512,
                typeVocabSize: Int = 2, vocabSize: Int, modelType: String = "bert") {
        self.hiddenSize = hiddenSize
        self.numAttentionHeads = numAttentionHeads
        self.numHiddenLayers = numHiddenLayers
        self.intermediateSize = intermediateSize
        self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.vocabSize = vocabSize
        self.modelType = modelType
    }

    /// Reads and validates `config.json` at `url`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw BERTImportError.unreadableFile(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(json: data, source: url.path)
    }

    /// Parses `config.json` bytes; `source` names the file in errors.
    public init(json data: Data, source: String = "config.json") throws {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw BERTImportError.badConfig(file: source, key: "<root>", reason: "not a JSON object")
        }
        func int(_ key: String, default value: Int? = nil) throws -> Int {
            guard let raw = object[key] else {
                if let value { return value }
                throw BERTImportError.badConfig(file: source, key: key, reason: "missing")
            }
            guard let n = raw as? NSNumber, n.doubleValue == n.doubleValue.rounded(),
                  let v = Int(exactly: n.doubleValue) else {
                throw BERTImportError.badConfig(file: source, key: key, reason: "expected an integer, found \(raw)")
            }
            return v
        }
        let modelType = (object["model_type"] as? String) ?? "bert"
        guard Self.supportedModelTypes.contains(modelType) else {
            throw BERTImportError.unsupported(file: source, feature: "model_type", value: modelType,
                                              supported: Self.supportedModelTypes)
        }
        if let position = object["position_embedding_type"] {
            guard let p = position as? String, p == "absolute" else {
                throw BERTImportError.unsupported(file: source, feature: "position_embedding_type",
                                                  value: "\(position)", supported: ["absolute"])
            }
        }
        if let decoder = object["is_decoder"] as? Bool, decoder {
            throw BERTImportError.unsupported(file: source, feature: "is_decoder", value: "true", supported: ["false"])
        }
        let actName = (object["hidden_act"] as? String) ?? "gelu"
        let act: Activation
        switch actName {
        case "gelu": act = .gelu
        case "gelu_new", "gelu_pytorch_tanh": act = .geluTanh
        case "relu": act = .relu
        default:
            throw BERTImportError.unsupported(file: source, feature: "hidden_act", value: actName,
                                              supported: ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"])
        }
        var eps: Float = 1e-12
        if let raw = object["layer_norm_eps"] {
            guard let n = raw as? NSNumber, n.doubleValue > 0 else {
                throw BERTImportError.badConfig(file: source, key: "layer_norm_eps", reason: "expected a positive number, found \(raw)")
            }
            eps = n.floatValue
        }
        self.init(hiddenSize: try int("hidden_size"), numAttentionHeads: try int("num_attention_heads"),
                  numHiddenLayers: try int("num_hidden_layers"), intermediateSize: try int("intermediate_size"),
                  layerNormEps: eps, hiddenAct: act,
                  maxPositionEmbeddings: try int("max_position_embeddings", default: 512),
                  typeVocabSize: try int("type_vocab_size", default: 2), vocabSize: try int("vocab_size"),
                  modelType: modelType)
        try validate(source: source)
    }

    /// Checks that the sizes are positive and the hidden size divides into heads.
    public func validate(source: String = "config.json") throws {
        let sizes: [(String, Int)] = [
            ("hidden_size", hiddenSize), ("num_attention_heads", numAttentionHeads),
            ("num_hidden_layers", numHiddenLayers), ("intermediate_size", intermediateSize),
            ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabSize),
            ("vocab_size", vocabSize),
        ]
        for (key, value) in sizes where value <= 0 {
            throw BERTImportError.badConfig(file: source, key: key, reason: "must be positive, found \(value)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw BERTImportError.badConfig(file: source, key: "num_attention_heads",
                reason: "hidden_size \(hiddenSize) is not a multiple of \(numAttentionHeads) heads")
        }
    }
}
