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
/// repetitions. Levels are swept `rounds` times (fresh plans each round, levels in alternating
/// order) so slow drift of a shared machine spreads over all levels. Levels at which the engine
/// keeps a layer on the dense kernel run the same code on the same shapes as dense, so their
/// samples are pooled into one dense time (no spurious "speedups" from noise). `base` is the
/// median end-to-end dense time and the overhead the median of (end-to-end − Σ layer steps).
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

    /// Creates a timer.
    public init(graph: Graph, inputShapes: [String: [Int]], feeds: [String: Tensor], options: EngineOptions,
                grid: SparsityGrid = .standard, warmup: Int = 2, repetitions: Int = 5, rounds: Int = 2) {
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
        for round in 0..<rounds {
            let levels = round % 2 == 0 ? Array(0..<levelCount) : Array((0..<levelCount).reversed())
            for level in levels {
                var pruned: [String: [Float]] = [:]
                for (l, layer) in layers.enumerated() where level > 0 {
                    pruned[layer.id] = orders[l].pruned(to: grid.sparsities[level])
                }
                let model = try Stitcher.replacing(weights: pruned, in: graph)
                let plan = try ExecutionPlan(graph: model, inputShapes: inputShapes, options: options)
                let steps = plan.stepDescriptions
                var stepOfLayer: [Int] = []
                for layer in layers {
                    guard let index = steps.firstIndex(where: { $0.node == layer.node }) else {
                        throw TimingError.layerNotTimed(layer: layer.id, reason: "node '\(layer.node)' has no step of its own in the plan")
                    }
                    stepOfLayer.append(index)
                    sparse[stepOfLayer.count - 1][level] = steps[index].kernel.contains("sparse")
                }
                var timings: [UInt64] = []
                for _ in 0..<warmup { _ = try plan.run(feeds, timings: &timings) }
                for _ in 0..<repetitions {
                    var run = [UInt64](repeating: 0, count: steps.count)
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try plan.run(feeds, timings: &run)
                    let total = Double(DispatchTime.now().uptimeNanoseconds - start)
                    var layerSum = 0.0
                    for (l, step) in stepOfLayer.enumerated() {
                        samples[l][level].append(Double(run[step]))
                        layerSum += Double(run[step])
                    }
                    if level == 0 {
                        totals.append(total)
                        overheads.append(max(total - layerSum, 0))
                    }
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
            let levels: [LevelTiming?] = (0..<levelCount).map { level in
                sparse[l][level] ? Self.timing(samples[l][level]) : denseTiming
            }
            timings.append(LayerTiming(layer: LayerID(layer.id), levels: levels))
        }
        let base = Self.timing(totals)
        let batch = inputShapes.values.first?.first
        do {
            return try TimingTable(engine: "swift-spdy", batch: batch, threads: options.threads, machine: machine, grid: grid,
                                   baseSeconds: base.seconds, overheadSeconds: Self.median(overheads) / 1e9,
                                   baseSpread: base.spread, layers: timings, source: source)
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
