import Foundation
import SPDYGraph
import SPDYTensor

/// Builds the `BertModel` forward pass from checked weights as ONNX opset-17 nodes, in the
/// order PyTorch evaluates it (so float rounding follows the Hugging Face implementation).
///
/// Node names are the module path plus the operation (`encoder.layer.0.attention.self.query/MatMul`);
/// helper constants live under `const/`.
struct BERTGraphBuilder {
    let config: BERTConfig
    let options: BERTImportOptions
    var asm = GraphAssembler()

    init(config: BERTConfig, weights: [String: Tensor], options: BERTImportOptions) {
        self.config = config
        self.options = options
        for (name, tensor) in weights { asm.constant(name, tensor) }
    }

    mutating func build() -> Graph {
        let seqDim: Dim = options.fixedSequenceLength.map { .fixed($0) } ?? .symbolic("sequence")
        let inputs = BERTImporter.inputNames.map {
            ValueInfo(name: $0, dataType: .int64, shape: [.symbolic("batch"), seqDim])
        }
        let maskBias = attentionMaskBias()
        var hidden = embeddings()
        for l in 0..<config.numHiddenLayers {
            hidden = layer(l, hidden, maskBias: maskBias,
                           output: l == config.numHiddenLayers - 1 ? BERTImporter.outputName : nil)
        }
        var outputs = [ValueInfo(name: BERTImporter.outputName, dataType: .float32,
                                 shape: [.symbolic("batch"), seqDim, .fixed(config.hiddenSize)])]
        if options.includePooler {
            pooler(hidden)
            outputs.append(ValueInfo(name: BERTImporter.pooledOutputName, dataType: .float32,
                                     shape: [.symbolic("batch"), .fixed(config.hiddenSize)]))
        }
        return Graph(name: "bert", inputs: inputs, outputs: outputs, initializers: asm.initializers,
                     nodes: asm.nodes, opsetVersion: BERTImporter.opsetVersion,
                     metadata: ["producer": "swift-spdy BERTImporter", "model_type": config.modelType,
                                "hidden_act": config.hiddenAct.rawValue])
    }

    // MARK: Pieces

    /// word + token type + position embeddings, then LayerNorm.
    mutating func embeddings() -> String {
        let word = asm.add("Gather", ["embeddings.word_embeddings.weight", "input_ids"],
                           name: "embeddings.word_embeddings/Gather", attributes: ["axis": .int(0)])
        let type = asm.add("Gather", ["embeddings.token_type_embeddings.weight", "token_type_ids"],
                           name: "embeddings.token_type_embeddings/Gather", attributes: ["axis": .int(0)])
        let seqEnd: String
        if let s = options.fixedSequenceLength {
            seqEnd = asm.int64s("const/sequence_length", [Int64(s)])
        } else {
            let shape = asm.add("Shape", ["input_ids"], name: "embeddings.position/Shape")
            seqEnd = asm.add("Gather", [shape, asm.int64s("const/index_1", [1])],
                             name: "embeddings.position/Gather", attributes: ["axis": .int(0)])
        }
        let positions = asm.add("Slice", ["embeddings.position_embeddings.weight", asm.int64s("const/zero", [0]),
                                          seqEnd, asm.int64s("const/zero", [0])],
                                name: "embeddings.position_embeddings/Slice")
        let sum = asm.add("Add", [word, type], name: "embeddings/Add")
        let all = asm.add("Add", [sum, positions], name: "embeddings/Add_1")
        return layerNorm(all, "embeddings.LayerNorm")
    }

    /// (1 − mask) · float32.min as `[batch, 1, 1, sequence]`, added to every attention score
    /// (Hugging Face's extended attention mask).
    mutating func attentionMaskBias() -> String {
        let unsqueezed = asm.add("Unsqueeze", ["attention_mask", asm.int64s("const/axes_1_2", [1, 2])],
                                 name: "extended_attention_mask/Unsqueeze")
        let cast = asm.add("Cast", [unsqueezed], name: "extended_attention_mask/Cast", attributes: ["to": .int(1)])
        let inverted = asm.add("Sub", [asm.scalar("const/one", 1), cast], name: "extended_attention_mask/Sub")
        return asm.add("Mul", [inverted, asm.scalar("const/float_min", -Float.greatestFiniteMagnitude)],
                       name: "extended_attention_mask/Mul")
    }

    /// One encoder layer: self-attention block and feed-forward block, each with residual +
    /// LayerNorm (post-norm).
    mutating func layer(_ l: Int, _ x: String, maskBias: String, output: String?) -> String {
        let p = "encoder.layer.\(l)"
        let heads = Int64(config.numAttentionHeads), d = Int64(config.headSize)
        let splitShape = asm.int64s("const/split_heads_shape", [0, 0, heads, d])
        let mergeShape = asm.int64s("const/merge_heads_shape", [0, 0, Int64(config.hiddenSize)])
        func split(_ value: String, _ module: String, perm: [Int]) -> String {
            let r = asm.add("Reshape", [value, splitShape], name: "\(module)/Reshape")
            return asm.add("Transpose", [r], name: "\(module)/Transpose", attributes: ["perm": .ints(perm)])
        }
        let q = split(linear(x, "\(p).attention.self.query"), "\(p).attention.self.query", perm: [0, 2, 1, 3])
        let k = split(linear(x, "\(p).attention.self.key"), "\(p).attention.self.key", perm: [0, 2, 3, 1])
        let v = split(linear(x, "\(p).attention.self.value"), "\(p).attention.self.value", perm: [0, 2, 1, 3])
        let a = "\(p).attention.self"
        let scores = asm.add("MatMul", [q, k], name: "\(a)/MatMul")
        let scaled = asm.add("Div", [scores, asm.scalar("const/sqrt_head_size", Float(Double(d).squareRoot()))],
                             name: "\(a)/Div")
        let masked = asm.add("Add", [scaled, maskBias], name: "\(a)/Add")
        let probs = asm.add("Softmax", [masked], name: "\(a)/Softmax", attributes: ["axis": .int(-1)])
        let context = asm.add("MatMul", [probs, v], name: "\(a)/MatMul_1")
        let merged = asm.add("Transpose", [context], name: "\(a)/Transpose", attributes: ["perm": .ints([0, 2, 1, 3])])
        let flat = asm.add("Reshape", [merged, mergeShape], name: "\(a)/Reshape")
        let attnOut = linear(flat, "\(p).attention.output.dense")
        let attnRes = asm.add("Add", [attnOut, x], name: "\(p).attention.output/Add")
        let attention = layerNorm(attnRes, "\(p).attention.output.LayerNorm")
        let inter = activation(linear(attention, "\(p).intermediate.dense"), "\(p).intermediate.intermediate_act_fn")
        let ffnOut = linear(inter, "\(p).output.dense")
        let ffnRes = asm.add("Add", [ffnOut, attention], name: "\(p).output/Add")
        return layerNorm(ffnRes, "\(p).output.LayerNorm", output: output)
    }

    /// tanh(dense(hidden[:, 0, :])) as `pooler_output`.
    mutating func pooler(_ hidden: String) {
        let first = asm.add("Gather", [hidden, asm.constant("const/index_0", Tensor(shape: [], integers: [0]))],
                            name: "pooler/Gather", attributes: ["axis": .int(1)])
        let dense = linear(first, "pooler.dense")
        asm.add("Tanh", [dense], name: "pooler.activation/Tanh", output: BERTImporter.pooledOutputName)
    }

    // MARK: Building blocks

    /// `x · W + b` as MatMul (weight `[in, out]` under `<module>.weight`) then Add (`<module>.bias`):
    /// the pattern the engine fuses into one GEMM step.
    mutating func linear(_ x: String, _ module: String) -> String {
        let mm = asm.add("MatMul", [x, module + ".weight"], name: "\(module)/MatMul")
        return asm.add("Add", [mm, module + ".bias"], name: "\(module)/Add")
    }

    /// LayerNormalization over the last axis with `<module>.weight` / `<module>.bias`.
    mutating func layerNorm(_ x: String, _ module: String, output: String? = nil) -> String {
        asm.add("LayerNormalization", [x, module + ".weight", module + ".bias"], name: "\(module)/LayerNormalization",
                attributes: ["axis": .int(-1), "epsilon": .float(config.layerNormEps)], output: output)
    }

    /// The feed-forward activation, written with standard ONNX nodes.
    mutating func activation(_ x: String, _ module: String) -> String {
        switch config.hiddenAct {
        case .gelu:
            // x · 0.5 · (1 + erf(x / √2))
            let scaled = asm.add("Div", [x, asm.scalar("const/sqrt_2", Float(2.0.squareRoot()))], name: "\(module)/Div")
            let erf = asm.add("Erf", [scaled], name: "\(module)/Erf")
            let plus = asm.add("Add", [erf, asm.scalar("const/one", 1)], name: "\(module)/Add")
            let prod = asm.add("Mul", [x, plus], name: "\(module)/Mul")
            return asm.add("Mul", [prod, asm.scalar("const/half", 0.5)], name: "\(module)/Mul_1")
        case .geluTanh:
            // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
            let x2 = asm.add("Mul", [x, x], name: "\(module)/Mul")
            let x3 = asm.add("Mul", [x2, x], name: "\(module)/Mul_1")
            let cubic = asm.add("Mul", [x3, asm.scalar("const/gelu_cubic", 0.044715)], name: "\(module)/Mul_2")
            let inner = asm.add("Add", [x, cubic], name: "\(module)/Add")
            let arg = asm.add("Mul", [inner, asm.scalar("const/sqrt_2_over_pi", Float((2.0 / Double.pi).squareRoot()))],
                              name: "\(module)/Mul_3")
            let t = asm.add("Tanh", [arg], name: "\(module)/Tanh")
            let plus = asm.add("Add", [t, asm.scalar("const/one", 1)], name: "\(module)/Add_1")
            let half = asm.add("Mul", [x, asm.scalar("const/half", 0.5)], name: "\(module)/Mul_4")
            return asm.add("Mul", [half, plus], name: "\(module)/Mul_5")
        case .relu:
            return asm.add("Relu", [x], name: "\(module)/Relu")
        }
    }
}
