import ArgumentParser
import Foundation
import SPDYEngine
import SPDYGraph
import SPDYTensor

/// Options naming a model and the concrete shapes to compile it for.
struct ModelOptions: ParsableArguments {
    @Argument(help: "An ONNX file, or a Hugging Face BERT folder (config.json + model.safetensors).")
    var model: String

    @Option(name: .customLong("dim"), help: ArgumentHelp("Size of a symbolic dimension, e.g. --dim batch=16.", valueName: "NAME=SIZE"))
    var dims: [String] = []

    @Option(name: .customLong("shape"), help: ArgumentHelp("Concrete shape of an input, e.g. --shape input=16,3,224,224.", valueName: "INPUT=D1,D2,…"))
    var shapes: [String] = []

    @Option(help: "Batch size: the leading dimension of every input whose leading dimension is symbolic.")
    var batch: Int?

    @Option(name: .customLong("seq-len"), help: "Sequence length for transformer inputs ([batch, sequence]).")
    var sequenceLength: Int?

    func validate() throws {
        if let b = batch, b < 1 { throw ValidationError("--batch must be at least 1") }
        if let s = sequenceLength, s < 1 { throw ValidationError("--seq-len must be at least 1") }
        for d in dims where parsePair(d) == nil { throw ValidationError("--dim expects NAME=SIZE, got '\(d)'") }
        for s in shapes where parseShape(s) == nil { throw ValidationError("--shape expects INPUT=D1,D2,…, got '\(s)'") }
    }

    func loadGraph() throws -> Graph { try ModelLoader.load(path: model) }

    /// Concrete shapes for every input, from --shape, --dim, --batch and --seq-len.
    func inputShapes(for graph: Graph, defaultBatch: Int = 1) throws -> [String: [Int]] {
        let named = Dictionary(dims.compactMap(parsePair), uniquingKeysWith: { $1 })
        let explicit = Dictionary(shapes.compactMap(parseShape), uniquingKeysWith: { $1 })
        var result: [String: [Int]] = [:]
        for input in graph.inputs {
            if let s = explicit[input.name] { result[input.name] = s; continue }
            guard let declared = input.shape else {
                throw ValidationError("input '\(input.name)' has no declared shape: give --shape \(input.name)=…")
            }
            var shape: [Int] = []
            for (axis, dim) in declared.enumerated() {
                switch dim {
                case .fixed(let v): shape.append(v)
                case .symbolic(let name):
                    if let v = named[name] { shape.append(v) }
                    else if axis == 0 { shape.append(batch ?? defaultBatch) }
                    else if axis == 1, declared.count == 2 { shape.append(sequenceLength ?? 128) }
                    else { throw ValidationError("input '\(input.name)' dimension \(axis) is symbolic ('\(name)'): give --dim \(name.isEmpty ? "NAME" : name)=SIZE or --shape") }
                }
            }
            result[input.name] = shape
        }
        return result
    }

    private func parsePair(_ text: String) -> (String, Int)? {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let v = Int(parts[1]), v > 0 else { return nil }
        return (String(parts[0]), v)
    }

    private func parseShape(_ text: String) -> (String, [Int])? {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let dims = parts[1].split(separator: ",").map { Int($0) }
        guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return (String(parts[0]), dims.map { $0! })
    }
}

/// Options for the engine.
struct EngineArguments: ParsableArguments {
    @Option(help: "Threads for the engine (and ONNX Runtime when compared).")
    var threads: Int = 1

    @Option(help: ArgumentHelp("Sparse kernels for pruned Conv/Linear layers: auto (when at most --sparse-max-density of the weight is nonzero), never, always.", valueName: "auto|never|always"))
    var sparse: String = "auto"

    @Option(help: "The density (nonzero fraction) at or below which `--sparse auto` picks the sparse kernel.")
    var sparseMaxDensity: Double?

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if !["auto", "never", "always"].contains(sparse) { throw ValidationError("--sparse expects auto, never or always, got '\(sparse)'") }
        if let d = sparseMaxDensity, !(0...1).contains(d) { throw ValidationError("--sparse-max-density must be in [0, 1]") }
    }

    /// The engine options these arguments ask for.
    var options: EngineOptions {
        let policy: SparseKernelPolicy
        switch sparse {
        case "never": policy = .never
        case "always": policy = .always
        default: policy = sparseMaxDensity.map { .automatic(maximumDensity: $0) } ?? .standard
        }
        return EngineOptions(threads: threads, sparseKernels: policy)
    }
}
