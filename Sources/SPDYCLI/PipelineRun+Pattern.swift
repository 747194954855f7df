import Foundation
import SPDYCore
import SPDYGraph
import SPDYONNX
import SPDYPruning
import SPDYTiming

extension PipelineRun {
    /// The N:M database (`database-NofM/`) of the searched layers the pattern fits; the layers
    /// it does not fit (channels not a multiple of M) stay dense and are returned with the reason.
    func database(pattern: SparsityPattern) throws -> (database: ReconstructionDatabase, skipped: [(layer: PrunableLayer, reason: String)]) {
        let searched = layers.filter { !excluded.contains(LayerID($0.id)) }
        let (fitting, skipped) = try DatabaseBuilder.partition(searched, graph: graph, pattern: pattern)
        guard !fitting.isEmpty else { throw CLIError("\(modelPath): the \(pattern) pattern fits none of the prunable layers") }
        let builder = DatabaseBuilder(graph: graph, modelPath: modelPath, layers: fitting, calibration: calibration,
                                      method: settings.method, threads: settings.threads, seed: settings.seed, pattern: pattern)
        return (try Self.buildDatabase(builder, directory: path("database-\(pattern.fileName)"), progress: &progress), skipped)
    }

    /// `spdy prune --pattern N:M`: every layer of the N:M database at its pattern (no search),
    /// as three models measured against the dense one and scored on the calibration and held-out
    /// sets: the pattern by magnitude without reconstruction (`pruned-NofM-magnitude.onnx`), the
    /// database's layer-wise reconstruction (`pruned-NofM-METHOD.onnx`) and, with `--gap`, the
    /// reconstruction fine-tuned by gAP (`pruned-NofM-METHOD-gap.onnx`). The first row is dense.
    func prune(pattern: SparsityPattern, database: ReconstructionDatabase, oracle: CalibrationLoss, heldOut: HeldOutSet?,
               measurement: SpeedupMeasurement, gap: GlobalAdaPruneArguments) throws -> [MethodResult] {
        try database.require(pattern: pattern, for: "spdy prune --pattern \(pattern)")
        let name = pattern.fileName
        let profile = Profile(grid: pattern.grid, levels: database.manifest.layers.map { (LayerID($0), SparsityLevel(1)) },
                              method: "\(pattern)-\(settings.method.rawValue)")
        try PipelineSupport.write(profile.encodeJSON(), to: path("profile-\(name).json"))
        let reconstructed = try Stitcher.stitch(graph, profile: profile, database: database)
        var masked: [String: [Float]] = [:]
        for id in database.manifest.layers {
            guard let layer = layers.first(where: { $0.id == id }) else { continue }
            let layout = try WeightLayout(layer: layer, graph: graph)
            let groups = try PatternGroups(pattern: pattern, layer: layer, layout: layout)
            let weights = layout.matrix(fromTensorOrder: try Stitcher.weight(id, in: graph).floats)
            let mask = groups.magnitudeMask(weights: weights, rows: layout.rows)
            masked[id] = layout.tensorOrder(fromMatrix: zip(weights, mask).map { $1 ? $0 : 0 })
        }
        let magnitude = try Stitcher.replacing(weights: masked, in: graph)
        progress.update("measuring \(pattern): dense and 2 pruned models, interleaved", fraction: 0)
        let measured = try measurement.measure(dense: graph, models: [magnitude, reconstructed])
        progress.finish(String(format: "measured %@: dense %.3f ms, magnitude %.2f×, reconstructed %.2f× (the engine has no N:M kernel)",
                               pattern.description, measured.dense.medianMs, measured.models[0].speedup, measured.models[1].speedup))
        var rows = [MethodResult(method: "dense", target: 1, predictedSpeedup: 1, measuredSpeedup: 1, medianMs: measured.dense.medianMs,
                                 calibration: try oracle.evaluate(graph), heldOut: try heldOut?.evaluate(graph), model: modelPath)]
        for (method, model, result) in [("magnitude", magnitude, measured.models[0]),
                                        (settings.method.rawValue, reconstructed, measured.models[1])] {
            let file = path("pruned-\(name)-\(method).onnx")
            try ONNXModel.write(model, to: URL(fileURLWithPath: file))
            var layerProfile = profile
            layerProfile.method = "\(pattern)-\(method)"
            layerProfile.measuredSpeedup = result.speedup
            rows.append(MethodResult(method: "\(pattern) \(method)", target: 1, profile: layerProfile, measuredSpeedup: result.speedup,
                                     medianMs: result.medianMs, calibration: try oracle.evaluate(model),
                                     heldOut: try heldOut?.evaluate(model), model: file, pattern: pattern.description))
        }
        if gap.gap { rows += try fineTune([rows[2]], gap: gap, oracle: oracle, heldOut: heldOut) }
        return rows
    }
}
