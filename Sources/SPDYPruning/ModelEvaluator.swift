import SPDYEngine
import SPDYGraph
import SPDYTensor

/// Runs a model over a sample set in batches on the engine and collects its first output.
public struct ModelEvaluator: Sendable {
    /// Samples per engine call.
    public var batchSize: Int
    /// Engine options (threads, sparse kernels).
    public var options: EngineOptions

    /// Creates an evaluator.
    public init(batchSize: Int = 128, options: EngineOptions = EngineOptions()) {
        precondition(batchSize > 0, "batch size must be positive")
        self.batchSize = batchSize
        self.options = options
    }

    /// The first graph output for every sample: `[samples × outputWidth]` values, row-major.
    public func outputs(of graph: Graph, on set: CalibrationSet) throws -> (values: [Float], width: Int) {
        guard let outputName = graph.outputs.first?.name else {
            throw PruningError.unsupportedLayer(layer: graph.name, reason: "the model has no output")
        }
        var plans: [Int: ExecutionPlan] = [:]
        var values: [Float] = []
        var width = 0
        for range in set.batchRanges(size: batchSize) {
            let plan: ExecutionPlan
            if let known = plans[range.count] { plan = known } else {
                plan = try ExecutionPlan(graph: graph, inputShapes: set.shapes(batch: range.count), options: options)
                plans[range.count] = plan
            }
            let result = try plan.run(set.batch(range))
            guard let output = result[outputName], output.dataType == .float32, output.shape.first == range.count else {
                throw PruningError.unsupportedLayer(layer: outputName, reason: "the first output must be float32 with samples along its first axis")
            }
            width = output.count / range.count
            values += output.floats
        }
        return (values, width)
    }
}
