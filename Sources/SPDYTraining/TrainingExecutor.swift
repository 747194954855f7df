import SPDYGraph
import SPDYTensor

/// How a training executor is set up.
public struct TrainingOptions: Sendable, Equatable {
    /// Threads for kernels and products (OpenBLAS runs single-threaded inside them).
    public var threads: Int
    /// BatchNormalization in training passes.
    public var batchNorm: BatchNormMode
    /// Which parameters train.
    public var selection: ParameterSelection

    public init(threads: Int = 1, batchNorm: BatchNormMode = .frozen, selection: ParameterSelection = .all) {
        self.threads = threads
        self.batchNorm = batchNorm
        self.selection = selection
    }
}

/// Runs a `Graph` forward and backward in float32 for training: the executor behind gAP and
/// gradual pruning. Separate from the inference engine's `ExecutionPlan` (which fuses, packs
/// weights and reuses buffers in ways a backward pass cannot see through); see docs/training.md.
///
/// Usage: `forward` a batch (retaining the intermediate values a loss reads), compute loss
/// gradients w.r.t. outputs or retained values, `backward` them: parameter gradients accumulate
/// in `parameters` until an optimiser step (or `zeroGradients()`). Not reentrant.
public final class TrainingExecutor {
    let core: GraphExecutor<Float>
    /// The parameters, their gradients and masks.
    public let parameters: TrainingParameters
    /// The options the executor was made with.
    public let options: TrainingOptions

    /// An executor for `graph`. Throws for graphs that do not validate.
    public init(graph: Graph, options: TrainingOptions = TrainingOptions()) throws {
        core = try GraphExecutor(graph: graph, selection: options.selection, batchNorm: options.batchNorm, threads: options.threads)
        parameters = TrainingParameters(store: core.store)
        self.options = options
    }

    /// The graph being trained (with its initial parameters).
    public var graph: Graph { core.graph }

    /// Runs the graph forward on `feeds` (every graph input, float32 or integer as declared).
    ///
    /// - Parameters:
    ///   - retaining: values to keep readable (and seedable in `backward`) besides the outputs,
    ///     e.g. every layer's output for layer-wise distillation.
    ///   - differentiable: a training pass, keeping what `backward` needs (BatchNorm in
    ///     `.batchStatistics` normalises with the batch). False: an evaluation pass keeping only
    ///     outputs and retained values.
    ///   - inputGradients: float inputs whose gradients `backward` should return.
    public func forward(_ feeds: [String: Tensor], retaining: Set<String> = [], differentiable: Bool = true,
                        inputGradients: Set<String> = []) throws -> ForwardPass {
        let state = try core.forward(feeds.mapValues { Value<Float>($0) }, retaining: retaining, differentiable: differentiable,
                                     training: differentiable, inputGradients: inputGradients)
        return ForwardPass(state: state, core: core)
    }

    /// Back-propagates gradients of a loss w.r.t. outputs or retained values of `pass` (each seed
    /// has its value's shape); parameter gradients are added to `parameters`. Returns the
    /// gradients of the inputs the forward pass asked for.
    @discardableResult
    public func backward(_ pass: ForwardPass, seeds: [String: Tensor]) throws -> [String: Tensor] {
        var dense: [String: Dense<Float>] = [:]
        for (name, t) in seeds {
            guard t.dataType == .float32 else { throw TrainingError.unknownValue(name: name, reason: "gradient seeds are float32, got \(t.dataType)") }
            dense[name] = Dense(t)
        }
        return try core.backward(pass.state, seeds: dense).mapValues(\.tensor)
    }

    /// Activation memory held by passes, now and at peak.
    public var activationStatistics: ActivationStatistics { core.counter.statistics }

    /// Starts a new peak measurement.
    public func resetActivationPeaks() { core.counter.resetPeaks() }

    /// The graph with every parameter (and BatchNorm statistic) at its current value.
    public func trainedGraph() -> Graph { core.store.write(into: core.graph) }
}

/// The result of a forward pass: its outputs and retained values, and what its backward needs.
public final class ForwardPass {
    let state: PassState<Float>
    let core: GraphExecutor<Float>

    init(state: PassState<Float>, core: GraphExecutor<Float>) {
        self.state = state
        self.core = core
    }

    /// A graph output or retained value by name (nil for other names).
    public func value(_ name: String) -> Tensor? { core.value(name, in: state)?.tensor }

    /// The graph outputs by name.
    public var outputs: [String: Tensor] {
        var result: [String: Tensor] = [:]
        for output in core.graph.outputs { result[output.name] = value(output.name) }
        return result
    }
}
