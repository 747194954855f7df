import ArgumentParser
import Foundation
import SPDYEngine
import SPDYGraph
import SPDYTensor

/// `spdy run MODEL --input NAME=FILE.npy … -o OUT_DIR`: runs the model on our engine and writes
/// every output as NAME.npy.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a model on the engine; write its outputs as .npy files.")

    @Argument(help: "An ONNX file, or a Hugging Face BERT folder.")
    var model: String

    @Option(name: .customLong("input"), help: ArgumentHelp("A model input from a .npy file.", valueName: "NAME=FILE.npy"))
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Folder for the outputs (created if needed).")
    var output: String

    @OptionGroup var engine: EngineArguments

    func validate() throws {
        for i in inputs where i.split(separator: "=", maxSplits: 1).count != 2 {
            throw ValidationError("--input expects NAME=FILE.npy, got '\(i)'")
        }
    }

    func run() throws {
        let graph = try ModelLoader.load(path: model)
        var feeds: [String: Tensor] = [:]
        for item in inputs {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            feeds[parts[0]] = try NPY.read(contentsOf: URL(fileURLWithPath: parts[1]))
        }
        for input in graph.inputs where feeds[input.name] == nil {
            throw CLIError("model input '\(input.name)' has no --input \(input.name)=FILE.npy")
        }
        let plan = try ExecutionPlan(graph: graph, inputShapes: feeds.mapValues(\.shape), options: engine.options)
        let outputs = try plan.run(feeds)
        let directory = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for out in graph.outputs {
            guard let tensor = outputs[out.name] else { continue }
            let file = directory.appendingPathComponent(Self.fileName(for: out.name))
            try NPY.write(tensor, to: file)
            print("\(out.name): \(tensor.dataType)\(tensor.shape) → \(file.path)")
        }
    }

    /// A safe file name for an output value name.
    static func fileName(for name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" }) + ".npy"
    }
}
