import SPDYEngine
import SPDYGraph
import SPDYTensor

/// Reuse of the calibration pass between search candidates.
///
/// Everything a model computes before its first layer whose level differs from an earlier
/// candidate's is the same as in that candidate's pass. The oracle keeps, for a few recent
/// candidates, the values crossing *cuts* of the execution order (just before a searched layer's
/// node: the activations produced before the cut and read after it, e.g. a residual branch's
/// input and the block's input); a new candidate runs only the part of its model after the
/// latest cut it shares with one of them, fed from the kept values. Cuts are chosen so each kept
/// candidate stays within a memory budget; values that are constants (shape arithmetic) are
/// inlined, and cuts crossed by non-float runtime values are not used.
public final class PrefixReuse: @unchecked Sendable {
    /// A place in the execution order.
    struct Cut {
        /// Nodes at this position of the execution order and later run after the cut.
        let position: Int
        /// The number of searched layers before the cut.
        let layersBefore: Int
        /// Runtime values produced before the cut and read after it (or model outputs).
        let crossing: [String]
        /// Bytes of the non-constant crossing values per sample.
        let bytesPerSample: Int
    }

    /// One candidate's pass: its levels and the crossing values at each kept cut, per batch.
    struct Entry {
        let levels: [Int]
        var values: [Int: [[String: Tensor]]]
    }

    /// The dense model.
    public let graph: Graph
    /// The searched layers in execution order.
    public let layers: [String]
    let calibration: CalibrationSet
    let evaluator: ModelEvaluator
    let batches: [Range<Int>]
    let analysis: StaticAnalysis
    /// Node names at each position of the execution order.
    let orderedNames: [String]
    /// The cuts in use, by position.
    let cuts: [Cut]
    /// The number of searched layers before each cut in use.
    public var cutPoints: [Int] { cuts.map(\.layersBefore) }
    /// How many candidates' passes are kept.
    let capacity: Int
    private var entries: [Entry] = []
    /// Passes scored, passes that started from a kept cut, and the sum over those of the share of
    /// the execution order skipped.
    public private(set) var statistics = (evaluations: 0, reused: 0, skippedFraction: 0.0)

    /// Prepares reuse for candidates of `graph` pruned in `layers` (weight names), scored by
    /// `evaluator` on `calibration`; each kept pass holds at most `budgetBytes / capacity`.
    public init(graph: Graph, layers: [String], calibration: CalibrationSet, evaluator: ModelEvaluator,
                budgetBytes: Int = 1 << 30, capacity: Int = 3) throws {
        self.graph = graph
        self.calibration = calibration
        self.evaluator = evaluator
        self.capacity = capacity
        batches = calibration.batchRanges(size: evaluator.batchSize)
        let size = batches.first?.count ?? 1
        let others = try Set(batches.map(\.count)).subtracting([size]).map {
            try StaticAnalysis(graph, inputShapes: calibration.shapes(batch: $0))
        }
        analysis = try StaticAnalysis(graph, inputShapes: calibration.shapes(batch: size))
        let order = analysis.order
        orderedNames = order.map { graph.nodes[$0].name }
        var positionOfNode: [String: Int] = [:]
        for (position, index) in order.enumerated() { positionOfNode[graph.nodes[index].name] = position }
        let discovered = PrunableLayer.discover(in: graph, analysis: analysis)
        let wanted = Set(layers)
        let located = discovered.filter { wanted.contains($0.id) }.compactMap { layer in positionOfNode[layer.node].map { (layer.id, $0) } }
            .sorted { $0.1 < $1.1 }
        self.layers = located.map(\.0)
        // Where each runtime value is produced and last read.
        let inputs = Set(graph.inputs.map(\.name))
        var producedAt: [String: Int] = [:], lastReadAt: [String: Int] = [:]
        for (position, index) in order.enumerated() {
            let node = graph.nodes[index]
            for name in node.outputs where !name.isEmpty { producedAt[name] = position }
            for name in node.inputs where !name.isEmpty { lastReadAt[name] = position }
        }
        let scored = evaluator.outputName ?? ModelEvaluator.scoredOutput(of: graph)
        for output in graph.outputs { lastReadAt[output.name] = order.count }
        var candidates: [Cut] = []
        for (count, (_, position)) in located.enumerated() where position > 0 {
            var crossing: [String] = [], bytes = 0, usable = true
            for (name, produced) in producedAt where produced < position && (lastReadAt[name] ?? -1) >= position {
                guard !inputs.contains(name), graph.initializers[name] == nil else { continue }
                let value = analysis.values[name]
                if let constant = value?.constant {
                    // Constants may depend on the batch size (shape arithmetic): inline them only
                    // when they are the same at every batch size of the pass.
                    guard others.allSatisfy({ $0.values[name]?.constant == constant }) else { usable = false; break }
                    crossing.append(name)
                    continue
                }
                guard let type = value?.type, type.dataType == .float32, name != scored else { usable = false; break }
                crossing.append(name)
                bytes += type.shape.reduce(1, *) / max(1, size) * 4
            }
            if usable { candidates.append(Cut(position: position, layersBefore: count, crossing: crossing.sorted(), bytesPerSample: bytes)) }
        }
        // Every cut if they fit the budget, else every k-th.
        let perEntry = budgetBytes / max(1, capacity)
        var stride = 1
        var chosen = candidates
        while !chosen.isEmpty && chosen.reduce(0, { $0 + $1.bytesPerSample }) * calibration.sampleCount > perEntry {
            stride += 1
            chosen = candidates.enumerated().filter { ($0.offset + 1) % stride == 0 }.map(\.element)
        }
        cuts = chosen
    }

    /// The scored outputs of `pruned` (the dense model with the searched layers at `levels`, one
    /// per entry of ``layers``; other layers as in the dense model).
    public func outputs(of pruned: Graph, levels: [Int]) throws -> (values: [Float], width: Int) {
        precondition(levels.count == layers.count, "one level per searched layer")
        statistics.evaluations += 1
        // The latest kept cut whose preceding layers all match a kept pass.
        var best: (entry: Int, cut: Int)? = nil
        for (e, entry) in entries.enumerated() {
            var shared = 0
            while shared < levels.count && entry.levels[shared] == levels[shared] { shared += 1 }
            if let c = cuts.indices.last(where: { cuts[$0].layersBefore <= shared && entry.values[$0] != nil }),
               best.map({ c > $0.cut }) ?? true {
                best = (e, c)
            }
        }
        var kept: [Int: [[String: Tensor]]] = [:]
        let result: (values: [Float], width: Int)
        if let (e, c) = best {
            let cut = cuts[c]
            statistics.reused += 1
            statistics.skippedFraction += Double(cut.position) / Double(orderedNames.count)
            for (index, values) in entries[e].values where index <= c { kept[index] = values }
            let later = Array(cuts.indices.filter { $0 > c })
            let suffix = try Self.suffix(of: pruned, after: Set(orderedNames[..<cut.position]), cut: cut, analysis: analysis)
            let cached = entries[e].values[c]!
            let inputNames = Set(suffix.inputs.map(\.name))
            result = try evaluator.outputs(of: suffix, batches: batches, observed: Set(later.flatMap { cuts[$0].crossing }),
                                           inspect: { b, plan in try self.collect(later, from: plan, batch: b, into: &kept) }) { b, range in
                var feeds = self.calibration.batch(range).filter { inputNames.contains($0.key) }
                for (name, tensor) in cached[b] where inputNames.contains(name) { feeds[name] = tensor }
                return feeds
            }
        } else {
            let all = Array(cuts.indices)
            result = try evaluator.outputs(of: pruned, batches: batches, observed: Set(cuts.flatMap(\.crossing)),
                                           inspect: { b, plan in try self.collect(all, from: plan, batch: b, into: &kept) }) { _, range in
                self.calibration.batch(range)
            }
        }
        entries.insert(Entry(levels: levels, values: kept), at: 0)
        if entries.count > capacity { entries.removeLast() }
        return result
    }

    /// Copies the crossing values of `cutIndices` out of `plan` after batch `batch`.
    private func collect(_ cutIndices: [Int], from plan: ExecutionPlan, batch: Int, into kept: inout [Int: [[String: Tensor]]]) throws {
        for c in cutIndices {
            var values: [String: Tensor] = [:]
            for name in cuts[c].crossing where analysis.values[name]?.constant == nil { values[name] = try plan.value(named: name) }
            kept[c, default: []].append(values)
        }
    }

    /// The part of `model` after `cut`: the nodes not in `before`, reading the cut's runtime values
    /// as inputs and its constant ones as initializers.
    static func suffix(of model: Graph, after before: Set<String>, cut: Cut, analysis: StaticAnalysis) throws -> Graph {
        var result = model
        result.nodes = model.nodes.filter { !before.contains($0.name) }
        let produced = Set(result.nodes.flatMap(\.outputs))
        let read = Set(result.nodes.flatMap(\.inputs))
        result.inputs = model.inputs.filter { read.contains($0.name) }
        for name in cut.crossing {
            if let constant = analysis.values[name]?.constant {
                result.initializers[name] = constant
            } else {
                result.inputs.append(ValueInfo(name: name, dataType: .float32, shape: nil))
            }
        }
        result.outputs = model.outputs.filter { produced.contains($0.name) }
        return result
    }
}
