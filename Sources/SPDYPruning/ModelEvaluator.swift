import SPDYEngine
import SPDYGraph
import SPDYTensor

/// Runs a model over a sample set in batches on the engine and collects its first output.
public struct ModelEvaluator: Sendable {
    /// Samples per engine call.
    public var batchSize: Int
    /// Engine options (threads, sparse kernels).
    public var options: EngineOptions
    /// The scored output; `nil` picks ``scoredOutput(of:)``.
    public var outputName: String?

    /// Creates an evaluator.
    public init(batchSize: Int = 128, options: EngineOptions = EngineOptions(), outputName: String? = nil) {
        precondition(batchSize > 0, "batch size must be positive")
        self.batchSize = batchSize
        self.options = options
        self.outputName = outputName
    }

    /// A batch size for scoring `set`: large batches for small samples, smaller ones for large
    /// images, so one candidate's activation buffers stay in the hundreds of MB (a 224² image
    /// model at batch 128 allocates and faults in gigabytes per candidate). A power of two in 1…128.
    public static func batchSize(for set: CalibrationSet) -> Int {
        let perSample = set.inputs.values.reduce(0) { $0 + $1.count / max(1, set.sampleCount) }
        var size = 128
        while size > 1 && size * perSample > 1 << 21 { size /= 2 }
        return size
    }

    /// The output a model is scored on by default: one named like logits or a sentence embedding
    /// (the BERT import's pooled head), else the first.
    public static func scoredOutput(of graph: Graph) -> String? {
        let names = graph.outputs.map(\.name)
        for hint in ["logits", "sentence_embedding", "embedding", "output"] {
            if let name = names.first(where: { $0.lowercased() == hint }) { return name }
        }
        return names.first
    }

    /// The scored output for every sample: `[samples × outputWidth]` values, row-major.
    public func outputs(of graph: Graph, on set: CalibrationSet) throws -> (values: [Float], width: Int) {
        try outputs(of: graph, batches: set.batchRanges(size: batchSize)) { _, range in set.batch(range) }
    }

    /// The scored output of `graph` over `batches` of samples: `feeds(index, range)` gives a
    /// batch's inputs; values in `observed` stay readable after each batch, when `inspect(index,
    /// plan)` is called. One plan per distinct batch size.
    public func outputs(of graph: Graph, batches: [Range<Int>], observed: Set<String> = [],
                        inspect: (Int, ExecutionPlan) throws -> Void = { _, _ in },
                        feeds: (Int, Range<Int>) throws -> [String: Tensor]) throws -> (values: [Float], width: Int) {
        guard let outputName = outputName ?? Self.scoredOutput(of: graph) else {
            throw PruningError.unsupportedLayer(layer: graph.name, reason: "the model has no output")
        }
        guard graph.outputs.contains(where: { $0.name == outputName }) else {
            throw PruningError.unsupportedLayer(layer: outputName, reason: "not an output of the model (outputs: \(graph.outputs.map(\.name).joined(separator: ", ")))")
        }
        var options = self.options
        options.observed.formUnion(observed)
        var plans: [Int: ExecutionPlan] = [:]
        var values: [Float] = []
        var width = 0
        for (index, range) in batches.enumerated() {
            let batch = try feeds(index, range)
            let plan: ExecutionPlan
            if let known = plans[range.count] { plan = known } else {
                plan = try ExecutionPlan(graph: graph, inputShapes: batch.mapValues(\.shape), options: options)
                plans[range.count] = plan
            }
            let result = try plan.run(batch)
            guard let output = result[outputName], output.dataType == .float32, output.shape.first == range.count else {
                throw PruningError.unsupportedLayer(layer: outputName, reason: "the first output must be float32 with samples along its first axis")
            }
            try inspect(index, plan)
            width = output.count / range.count
            values += output.floats
        }
        return (values, width)
    }
}
