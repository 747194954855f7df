import Foundation
import SPDYEngine
import SPDYGraph
import SPDYTensor

/// Runs the dense model over a calibration set and hands every prunable layer's input (as the
/// dense model computes it) to that layer's ``LayerHessian``.
public enum LayerCapture {
    /// The input statistics of `layers`, from one pass over `calibration` in batches of `batchSize`.
    /// With a token mask in the set (``CalibrationSet/tokenMaskInput``), Linear layers whose input
    /// is `[batch × sequence × features]` count only the real tokens.
    ///
    /// - Parameters:
    ///   - keepBatches: Also keep one Hessian per batch (for AdaPrune's minibatch gradients).
    ///   - progress: Called after each batch with (samples done, samples in all).
    public static func hessians(graph: Graph, layers: [PrunableLayer], calibration: CalibrationSet,
                                batchSize: Int, threads: Int, keepBatches: Bool = false,
                                progress: (Int, Int) -> Void = { _, _ in }) throws -> [String: LayerHessian]
    {
        var accumulators: [String: LayerHessian] = [:]
        for layer in layers { accumulators[layer.id] = try LayerHessian(layer: layer, graph: graph, keepBatches: keepBatches) }
        let observed = Set(layers.map(\.input))
        var plans: [Int: ExecutionPlan] = [:]
        var done = 0
        for range in calibration.batchRanges(size: batchSize) {
            let plan: ExecutionPlan
            if let known = plans[range.count] { plan = known } else {
                plan = try ExecutionPlan(graph: graph, inputShapes: calibration.shapes(batch: range.count),
                                         options: EngineOptions(threads: threads, observed: observed))
                plans[range.count] = plan
            }
            _ = try plan.run(calibration.batch(range))
            let mask = calibration.tokenMask(range)
            for layer in layers {
                try accumulators[layer.id]!.accumulate(input: plan.value(named: layer.input), threads: threads, tokenMask: mask)
            }
            done += range.count
            progress(done, calibration.sampleCount)
        }
        return accumulators
    }
}
