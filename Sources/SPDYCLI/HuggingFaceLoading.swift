import Foundation
import SPDYGraph
import SPDYONNX

extension ModelLoader {
    /// Builds a graph from a Hugging Face BERT folder (config.json + model.safetensors).
    static func loadHuggingFaceFolder(_ url: URL) throws -> Graph {
        throw CLIError("\(url.path): Hugging Face folders are not importable yet")
    }
}
