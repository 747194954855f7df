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
    /// The N:M pattern of a `spdy prune --pattern` row (no speed target).
    var pattern: String? = nil

    /// How progress lines name the row: `spdy 2x`, `2:4 exact`.
    var label: String { pattern != nil ? method : String(format: "%@ %gx", method, target) }
}

extension PipelineRun {
    /// The measured speedup may fall this far below the target and count as meeting it
    /// (the spread of an interleaved measurement on this machine).
    static let measurementTolerance = 0.02
    /// Searches per method: the first at the target, then at targets raised by the shortfall.
    static let maximumAttempts = 3

    /// SPDY's profile and the baselines at `target`, each verified by measurement: stitched from
    /// the database and timed end to end against the dense model (interleaved). A method whose
    /// measured speedup falls short of the target (beyond ``measurementTolerance``) is solved
    /// again for a target raised by the shortfall, up to ``maximumAttempts`` times, so every
    /// delivered model meets the target on the engine, not only on the timing model. The final
    /// models are written as ONNX and scored on the calibration set and the held-out set.
    /// `dense` is nil when no method reaches the target (each result then says why).
    func compare(target: Double, table: TimingTable, database: ReconstructionDatabase, oracle: CalibrationLoss,
                 heldOut: HeldOutSet?, measurement: SpeedupMeasurement, methods: [String]) throws
        -> (dense: MethodResult?, results: [MethodResult])
    {
        let name = String(format: "%gx", target)
        var solverTargets = Dictionary(uniqueKeysWithValues: methods.map { ($0, target) })
        var final: [String: (MethodResult, Graph?)] = [:]
        var dense: MethodResult? = nil
        for attempt in 0..<Self.maximumAttempts {
            var pending: [(method: String, profile: Profile, graph: Graph)] = []
            for method in methods where final[method] == nil {
                let solverTarget = solverTargets[method]!
                let profile: Profile
                do { profile = try self.profile(method: method, solverTarget: solverTarget, table: table, oracle: oracle) } catch {
                    final[method] = (MethodResult(method: method, target: target, note: "\(error)"), nil)
                    printError("\(method) \(name): \(error)")
                    continue
                }
                pending.append((method, profile, try Stitcher.stitch(graph, profile: profile, database: database)))
            }
            if pending.isEmpty { break }
            progress.update("measuring \(name): dense and \(pending.count) pruned models, interleaved", fraction: 0)
            let measured = try measurement.measure(dense: graph, models: pending.map(\.graph))
            if dense == nil {
                dense = MethodResult(method: "dense", target: 1, predictedSpeedup: 1, measuredSpeedup: 1, medianMs: measured.dense.medianMs,
                                     calibration: try oracle.evaluate(graph), heldOut: try heldOut?.evaluate(graph), model: modelPath)
            }
            progress.finish(String(format: "measured %@: dense %.3f ms; ", name, measured.dense.medianMs)
                            + zip(pending, measured.models).map { String(format: "%@ %.2f× (predicted %.2f×)", $0.method, $1.speedup, $0.profile.predictedSpeedup ?? .nan) }.joined(separator: ", "))
            for (candidate, result) in zip(pending, measured.models) {
                let short = result.speedup < target * (1 - Self.measurementTolerance)
                if short, attempt + 1 < Self.maximumAttempts {
                    solverTargets[candidate.method]! *= target / result.speedup * 1.005
                    printError(String(format: "%@ %@: measured %.3f× < target; solving again for %.3f× on the timing model",
                                      candidate.method, name, result.speedup, solverTargets[candidate.method]!))
                    continue
                }
                var profile = candidate.profile
                profile.measuredSpeedup = result.speedup
                let calibrationScore = try oracle.evaluate(candidate.graph)
                profile.loss = calibrationScore.loss
                let file = path("pruned-\(candidate.method)-\(name).onnx")
                try ONNXModel.write(candidate.graph, to: URL(fileURLWithPath: file))
                try PipelineSupport.write(profile.encodeJSON(), to: path("profile-\(candidate.method)-\(name).json"))
                final[candidate.method] = (MethodResult(method: candidate.method, target: target, profile: profile,
                                                        predictedSpeedup: profile.predictedSpeedup, measuredSpeedup: result.speedup,
                                                        medianMs: result.medianMs, calibration: calibrationScore,
                                                        heldOut: try heldOut?.evaluate(candidate.graph), model: file,
                                                        note: short ? "below the target after \(Self.maximumAttempts) attempts" : nil), candidate.graph)
            }
        }
        return (dense, methods.compactMap { final[$0]?.0 })
    }

    /// The profile of `method` for `solverTarget` on the timing model.
    private func profile(method: String, solverTarget: Double, table: TimingTable, oracle: CalibrationLoss) throws -> Profile {
        switch method {
        case "spdy":
            return try search(target: solverTarget, table: table, oracle: oracle,
                              profileFile: path(String(format: "search-spdy-%.4gx.json", solverTarget)))
        default:
            guard let profile = baselines(target: solverTarget, table: table).first(where: { $0.method == method }) else {
                throw CLIError("unknown method \(method)")
            }
            guard let found = profile.profile else { throw CLIError(profile.note ?? "\(method) is infeasible") }
            return found
        }
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
        kind = LossKind.automatic(graph: graph, labelled: set.labels != nil, output: evaluator.outputName)
        self.evaluator = evaluator
        dense = try evaluator.outputs(of: graph, on: set)
    }

    func evaluate(_ model: Graph) throws -> Evaluation {
        let outputs = try evaluator.outputs(of: model, on: set)
        return CalibrationLoss.score(outputs.values, width: outputs.width, dense: dense.values, labels: set.labels, kind: kind)
    }
}
