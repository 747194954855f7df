import SPDYTensor

/// The tensors a `BertModel` checkpoint must hold for a given config, with their shapes in
/// Hugging Face layout (linear weights `[out, in]`), and the check that turns a checkpoint into
/// the graph's initializers (linear weights transposed to `[in, out]`).
struct BERTWeightLayout {
    /// One expected tensor.
    struct Entry {
        var name: String
        var shape: [Int]
        /// A linear layer's weight: stored transposed in the graph.
        var isLinearWeight: Bool
    }

    let config: BERTConfig
    let entries: [Entry]

    init(config: BERTConfig, includePooler: Bool) {
        self.config = config
        let h = config.hiddenSize, i = config.intermediateSize
        var entries: [Entry] = []
        func plain(_ name: String, _ shape: [Int]) { entries.append(Entry(name: name, shape: shape, isLinearWeight: false)) }
        func linear(_ prefix: String, out: Int, in inputs: Int) {
            entries.append(Entry(name: prefix + ".weight", shape: [out, inputs], isLinearWeight: true))
            plain(prefix + ".bias", [out])
        }
        func layerNorm(_ prefix: String) { plain(prefix + ".weight", [h]); plain(prefix + ".bias", [h]) }
        plain("embeddings.word_embeddings.weight", [config.vocabSize, h])
        plain("embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, h])
        plain("embeddings.token_type_embeddings.weight", [config.typeVocabSize, h])
        layerNorm("embeddings.LayerNorm")
        for l in 0..<config.numHiddenLayers {
            let p = "encoder.layer.\(l)"
            for part in ["query", "key", "value"] { linear("\(p).attention.self.\(part)", out: h, in: h) }
            linear("\(p).attention.output.dense", out: h, in: h)
            layerNorm("\(p).attention.output.LayerNorm")
            linear("\(p).intermediate.dense", out: i, in: h)
            linear("\(p).output.dense", out: h, in: i)
            layerNorm("\(p).output.LayerNorm")
        }
        if includePooler { linear("pooler.dense", out: h, in: h) }
        self.entries = entries
    }

    /// The expected tensors of `weights` (canonical names), checked for presence, element type
    /// and shape, with linear weights transposed to `[in, out]`. Extra tensors are ignored.
    func checked(_ weights: [String: Tensor], source: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for entry in entries {
            guard let tensor = weights[entry.name] else {
                throw BERTImportError.missingTensor(file: source, tensor: entry.name)
            }
            guard tensor.dataType == .float32 else {
                throw BERTImportError.tensorType(file: source, tensor: entry.name, expected: "a float type", found: "\(tensor.dataType)")
            }
            guard tensor.shape == entry.shape else {
                throw BERTImportError.tensorShape(file: source, tensor: entry.name, expected: entry.shape, found: tensor.shape)
            }
            result[entry.name] = entry.isLinearWeight ? Self.transposed(tensor) : tensor
        }
        return result
    }

    /// A 2-D float tensor transposed: `[r, c]` → `[c, r]`.
    static func transposed(_ t: Tensor) -> Tensor {
        precondition(t.rank == 2 && t.dataType == .float32, "transposed expects a 2-D float tensor")
        let r = t.shape[0], c = t.shape[1]
        var out = [Float](repeating: 0, count: r * c)
        t.withUnsafeFloats { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r {
                    for j in 0..<c { dst[j * r + i] = src[i * c + j] }
                }
            }
        }
        return Tensor(shape: [c, r], floats: out)
    }
}
