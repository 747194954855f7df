import Dispatch
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYPruning
import SPDYTensor

/// Algorithm 2 on our engine: the time of every prunable layer at every grid level, measured
/// inside the whole model at the deployment batch size and thread count.
///
/// For each level the model is compiled with every prunable layer magnitude-pruned to that level
/// (the real shapes and the real weights' magnitude masks), so each layer runs with the kernel
/// the engine picks for that density, with its fused epilogue, between its real neighbours.
/// Each run records every step's duration; a layer's time at a level is the median over the
/// repetitions. Levels are swept `rounds` times, a few runs per level each time, in alternating
/// order: this machine's sparse kernels switch between a fast and a slow mode over seconds
/// (neighbours on a shared host), and spreading every level's samples over the whole sweep keeps
/// one lucky moment from making a level look fast (which the search would then exploit). Levels at which the engine
/// keeps a layer on the dense kernel run the same code on the same shapes as dense, so their
/// samples are pooled into one dense time (no spurious "speedups" from noise). The overhead is
/// the median over all runs of (end-to-end − Σ layer steps) and `base` = overhead + Σ dense times.
public struct EngineTimer {
    /// What the progress callback sees: rounds × levels done, and the total.
    public typealias Progress = (_ done: Int, _ total: Int) -> Void

    /// The model.
    public var graph: Graph
    /// Concrete input shapes (batch included).
    public var inputShapes: [String: [Int]]
    /// Inputs for the runs.
    public var feeds: [String: Tensor]
    /// Engine options (threads and sparse-kernel policy of the deployment).
    public var options: EngineOptions
    /// The grid.
    public var grid: SparsityGrid
    /// Untimed runs per level and round.
    public var warmup: Int
    /// Timed runs per level and round.
    public var repetitions: Int
    /// Sweeps over the levels.
    public var rounds: Int
    /// Keep every level's plan alive across rounds when all levels' plans take at most about this
    /// many bytes (no recompilation; each round then needs one warm-up run only). Kept small: on
    /// this VM, holding 12 GB of MiniLM plans slowed every run about 7× (the host does not back
    /// all of the guest's memory), which corrupted a whole timing table.
    public var planCacheBytes: Int = 1 << 30

    /// Creates a timer.
    public init(graph: Graph, inputShapes: [String: [Int]], feeds: [String: Tensor], options: EngineOptions,
                grid: SparsityGrid = .standard, warmup: Int = 2, repetitions: Int = 2, rounds: Int = 5) {
        self.graph = graph
        self.inputShapes = inputShapes
        self.feeds = feeds
        self.options = options
        self.grid = grid
        self.warmup = warmup
        self.repetitions = repetitions
        self.rounds = rounds
    }

    /// Measures and returns the table (engine `swift-spdy`, with batch, threads and `machine`).
    public func collect(machine: String? = nil, source: String? = nil, progress: Progress = { _, _ in }) throws -> TimingTable {
        let analysis = try StaticAnalysis(graph, inputShapes: inputShapes)
        let layers = PrunableLayer.discover(in: graph, analysis: analysis)
        guard !layers.isEmpty else { throw TimingError.noPrunableLayers(model: graph.name) }
        var orders: [MagnitudeOrder] = []
        for layer in layers {
            guard let tensor = analysis.values[layer.id]?.constant else { throw TimingError.layerNotTimed(layer: layer.id, reason: "weight is not constant") }
            orders.append(MagnitudeOrder(weights: tensor.floats))
        }
        let levelCount = grid.count
        // samples[layer][level]: step nanoseconds; sparse[layer][level]: whether the sparse kernel ran.
        var samples = [[[Double]]](repeating: [[Double]](repeating: [], count: levelCount), count: layers.count)
        var sparse = [[Bool]](repeating: [Bool](repeating: false, count: levelCount), count: layers.count)
        var totals: [Double] = [], overheads: [Double] = []
        var done = 0
        // One untimed dense pass first: page faults and thread start-up belong to no level.
        _ = try ExecutionPlan(graph: graph, inputShapes: inputShapes, options: options).run(feeds)
        // Plans are kept across rounds when all levels' weights fit `planCacheBytes`; otherwise
        // each round compiles them again.
        // A plan holds the graph's constants, packed copies of the weights (dense or sparse, 8
        // bytes per nonzero) and its activations: about three times the model's constants.
        let constantBytes = graph.initializers.values.reduce(0) { $0 + $1.count * 4 }
        let keepPlans = 3 * constantBytes * levelCount <= planCacheBytes
        var plans: [Int: (plan: ExecutionPlan, steps: [Int])] = [:]
        func plan(for level: Int) throws -> (plan: ExecutionPlan, steps: [Int], fresh: Bool) {
            if let known = plans[level] { return (known.plan, known.steps, false) }
            var pruned: [String: [Float]] = [:]
            for (l, layer) in layers.enumerated() where level > 0 {
                pruned[layer.id] = orders[l].pruned(to: grid.sparsities[level])
            }
            let model = try Stitcher.replacing(weights: pruned, in: graph)
            let plan = try ExecutionPlan(graph: model, inputShapes: inputShapes, options: options)
            let steps = plan.stepDescriptions
            var stepOfLayer: [Int] = []
            for (l, layer) in layers.enumerated() {
                guard let index = steps.firstIndex(where: { $0.node == layer.node }) else {
                    throw TimingError.layerNotTimed(layer: layer.id, reason: "node '\(layer.node)' has no step of its own in the plan")
                }
                stepOfLayer.append(index)
                sparse[l][level] = steps[index].kernel.contains("sparse")
            }
            if keepPlans { plans[level] = (plan, stepOfLayer) }
            return (plan, stepOfLayer, true)
        }
        for round in 0..<rounds {
            let levels = round % 2 == 0 ? Array(0..<levelCount) : Array((0..<levelCount).reversed())
            for level in levels {
                let (plan, stepOfLayer, fresh) = try plan(for: level)
                let stepCount = plan.stepDescriptions.count
                var timings: [UInt64] = []
                for _ in 0..<(fresh ? warmup : 1) { _ = try plan.run(feeds, timings: &timings) }
                for _ in 0..<repetitions {
                    var run = [UInt64](repeating: 0, count: stepCount)
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try plan.run(feeds, timings: &run)
                    let total = Double(DispatchTime.now().uptimeNanoseconds - start)
                    var layerSum = 0.0
                    for (l, step) in stepOfLayer.enumerated() {
                        samples[l][level].append(Double(run[step]))
                        layerSum += Double(run[step])
                    }
                    if level == 0 { totals.append(total) }
                    overheads.append(max(total - layerSum, 0))
                }
                done += 1
                progress(done, rounds * levelCount)
            }
        }
        var timings: [LayerTiming] = []
        for (l, layer) in layers.enumerated() {
            let denseLevels = (0..<levelCount).filter { !sparse[l][$0] }
            let pooled = denseLevels.flatMap { samples[l][$0] }
            let denseTiming = Self.timing(pooled)
            var levels: [LevelTiming?] = (0..<levelCount).map { level in
                sparse[l][level] ? Self.timing(samples[l][level]) : denseTiming
            }
            // The same sparse kernel on fewer nonzeros does no more work: fit the sparse levels'
            // medians with the closest non-increasing sequence (pool-adjacent-violators), which
            // averages neighbouring levels' noise instead of letting the search pick a lucky one.
            let sparseLevels = (0..<levelCount).filter { sparse[l][$0] }
            let fitted = Self.nonIncreasingFit(sparseLevels.map { levels[$0]!.seconds },
                                               weights: sparseLevels.map { Double(samples[l][$0].count) })
            for (i, level) in sparseLevels.enumerated() { levels[level]?.seconds = fitted[i] }
            timings.append(LayerTiming(layer: LayerID(layer.id), levels: levels))
        }
        // The dense time is the model's own parts: overhead plus every layer's pooled dense time,
        // so that base and the per-layer times come from the same samples (a separate end-to-end
        // median would be measured at other moments of a drifting machine and bias every ratio).
        let overhead = Self.median(overheads) / 1e9
        let base = overhead + timings.reduce(0) { $0 + $1.denseSeconds }
        let endToEnd = Self.timing(totals)
        let batch = inputShapes.values.first?.first
        do {
            return try TimingTable(engine: "swift-spdy", batch: batch, threads: options.threads, machine: machine, grid: grid,
                                   baseSeconds: base, overheadSeconds: overhead,
                                   baseSpread: endToEnd.spread, layers: timings, source: source)
        } catch {
            throw TimingError.invalidTable("\(error)")
        }
    }

    /// Median and relative interquartile spread of nanosecond samples, as seconds.
    static func timing(_ nanoseconds: [Double]) -> LevelTiming {
        let stats = LatencyStatistics(samples: nanoseconds.map { max($0, 1) })
        return LevelTiming(seconds: stats.median / 1e9, spread: stats.relativeSpread * stats.median / 1e9)
    }

    static func median(_ values: [Double]) -> Double { LatencyStatistics(samples: values).median }

    /// The weighted least-squares non-increasing fit of `values` (pool adjacent violators).
    static func nonIncreasingFit(_ values: [Double], weights: [Double]) -> [Double] {
        var blocks: [(value: Double, weight: Double, count: Int)] = []
        for (v, w) in zip(values, weights) {
            blocks.append((v, max(w, 1e-12), 1))
            while blocks.count >= 2, blocks[blocks.count - 2].value < blocks[blocks.count - 1].value {
                let b = blocks.removeLast(), a = blocks.removeLast()
                let weight = a.weight + b.weight
                blocks.append(((a.value * a.weight + b.value * b.weight) / weight, weight, a.count + b.count))
            }
        }
        return blocks.flatMap { [Double](repeating: $0.value, count: $0.count) }
    }
}

/// Errors collecting a timing table.
public enum TimingError: Error, CustomStringConvertible, Equatable {
    /// The model has no Conv/Gemm/MatMul layer with a constant weight.
    case noPrunableLayers(model: String)
    /// A layer could not be timed.
    case layerNotTimed(layer: String, reason: String)
    /// The measured table failed validation.
    case invalidTable(String)
    /// An external engine's helper failed.
    case externalEngine(engine: String, reason: String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .noPrunableLayers(let model): return "model '\(model)' has no prunable layer (Conv, or Gemm/MatMul with a constant weight)"
        case let .layerNotTimed(layer, reason): return "layer '\(layer)': cannot time it: \(reason)"
        case .invalidTable(let reason): return "the measured timing table is invalid: \(reason)"
        case let .externalEngine(engine, reason): return "\(engine): \(reason)"
        }
    }
}
