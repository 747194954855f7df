import Foundation
import SPDYGraph
import SPDYONNX

extension ModelLoader {
    /// Builds a graph from a Hugging Face BERT folder (config.json + model.safetensors), with
    /// the sentence-embedding head (mean pooling + L2 normalisation) appended as a second output.
    static func loadHuggingFaceFolder(_ url: URL) throws -> Graph {
        var graph = try BERTImporter.importFolder(url)
        try graph.appendSentenceEmbedding()
        return graph
    }
}
