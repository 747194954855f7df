import Foundation
import SPDYCore
import SPDYEngine
import SPDYGraph
import SPDYONNX
import SPDYPruning
import SPDYTiming

/// One pruned model of a comparison: how it was chosen and what it achieves.
struct MethodResult: Codable {
    var method: String
    var target: Double
    var profile: Profile?
    var predictedSpeedup: Double?
    var measuredSpeedup: Double?
    var medianMs: Double?
    var calibration: Evaluation?
    var heldOut: Evaluation?
    var model: String?
    var note: String?
}

extension PipelineRun {
    /// SPDY's profile and the baselines at `target`: stitched from the database, written as ONNX,
    /// measured end to end against the dense model (interleaved), scored on the calibration set
    /// and, when given, on a held-out set.
    func compare(target: Double, spdy: Profile, table: TimingTable, database: ReconstructionDatabase,
                 oracle: CalibrationLoss, heldOut: HeldOutSet?, measurement: SpeedupMeasurement) throws -> (dense: MethodResult, results: [MethodResult])
    {
        let name = String(format: "%gx", target)
        var results: [MethodResult] = []
        var graphs: [Graph] = []
        let candidates: [(String, Profile?, String?)] = [("spdy", spdy, nil)] + baselines(target: target, table: table)
        for (method, candidate, note) in candidates {
            guard let candidate else {
                results.append(MethodResult(method: method, target: target, note: note))
                continue
            }
            let pruned = try Stitcher.stitch(graph, profile: candidate, database: database)
            let file = path("pruned-\(method)-\(name).onnx")
            try ONNXModel.write(pruned, to: URL(fileURLWithPath: file))
            var profile = candidate
            let calibrationScore = try oracle.evaluate(pruned)
            profile.loss = calibrationScore.loss
            results.append(MethodResult(method: method, target: target, profile: profile, predictedSpeedup: profile.predictedSpeedup,
                                        calibration: calibrationScore, heldOut: try heldOut?.evaluate(pruned), model: file))
            graphs.append(pruned)
        }
        progress.update("measuring \(name): dense and \(graphs.count) pruned models, interleaved", fraction: 0)
        let measured = try measurement.measure(dense: graph, models: graphs)
        var next = 0
        for i in results.indices where results[i].profile != nil {
            results[i].measuredSpeedup = measured.models[next].speedup
            results[i].medianMs = measured.models[next].medianMs
            results[i].profile?.measuredSpeedup = measured.models[next].speedup
            next += 1
        }
        for result in results where result.profile != nil {
            try PipelineSupport.write(result.profile!.encodeJSON(), to: path("profile-\(result.method)-\(name).json"))
        }
        progress.finish("measured \(name): dense \(String(format: "%.3f", measured.dense.medianMs)) ms")
        let dense = MethodResult(method: "dense", target: 1, predictedSpeedup: 1, measuredSpeedup: 1, medianMs: measured.dense.medianMs,
                                 calibration: try oracle.evaluate(graph), heldOut: try heldOut?.evaluate(graph), model: modelPath)
        return (dense, results)
    }
}

/// A held-out set with the dense model's outputs on it, for accuracy (labels) or agreement with
/// the dense model's top-1 and output distance (no labels).
struct HeldOutSet {
    let set: CalibrationSet
    let kind: LossKind
    let evaluator: ModelEvaluator
    let dense: (values: [Float], width: Int)

    init(directory: String, graph: Graph, evaluator: ModelEvaluator) throws {
        set = try CalibrationSet(directory: directory, graph: graph)
        kind = LossKind.automatic(graph: graph, labelled: set.labels != nil)
        self.evaluator = evaluator
        dense = try evaluator.outputs(of: graph, on: set)
    }

    func evaluate(_ model: Graph) throws -> Evaluation {
        let outputs = try evaluator.outputs(of: model, on: set)
        return CalibrationLoss.score(outputs.values, width: outputs.width, dense: dense.values, labels: set.labels, kind: kind)
    }
}
