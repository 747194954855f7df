import Foundation
import SPDYGraph
import SPDYONNX

/// Opens a model from a path: an ONNX file, or a Hugging Face BERT folder.
enum ModelLoader {
    static func load(path: String) throws -> Graph {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("\(path): no such file or folder")
        }
        let url = URL(fileURLWithPath: path)
        if isDirectory.boolValue {
            return try loadHuggingFaceFolder(url)
        }
        return try ONNXModel.load(contentsOf: url)
    }
}

/// A user-facing error with a message.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
