import Foundation
import SPDYGraph
import SPDYONNX
import SPDYPruning

extension PipelineRun {
    /// gAP on every model a comparison delivered: one row `METHOD+gap` per model, at that model's
    /// measured speed (gAP keeps its zeros, so the pruned kernels and speed are unchanged), scored
    /// on the calibration and held-out sets like the others. Files: `pruned-METHOD-T-gap.onnx`
    /// and its `.gap-state.safetensors` (a rerun resumes from it).
    func fineTune(_ results: [MethodResult], gap: GlobalAdaPruneArguments, oracle: CalibrationLoss,
                  heldOut: HeldOutSet?) throws -> [MethodResult] {
        var rows: [MethodResult] = []
        for result in results where result.method != "dense" {
            guard let file = result.model, result.profile != nil else { continue }
            let sparse = try ONNXModel.load(contentsOf: URL(fileURLWithPath: file))
            let output = String(file.dropLast(".onnx".count)) + "-gap.onnx"
            let tuned = try gap.run(dense: graph, sparse: sparse, layers: layers, calibration: calibration, threads: settings.threads,
                                    stateFile: URL(fileURLWithPath: output + ".gap-state.safetensors"),
                                    label: result.label)
            try ONNXModel.write(tuned, to: URL(fileURLWithPath: output))
            rows.append(MethodResult(method: result.method + "+gap", target: result.target, profile: result.profile,
                                     predictedSpeedup: result.predictedSpeedup, measuredSpeedup: result.measuredSpeedup,
                                     medianMs: result.medianMs, calibration: try oracle.evaluate(tuned),
                                     heldOut: try heldOut?.evaluate(tuned), model: output,
                                     note: "gAP: \(gap.epochs) epochs, batch \(gap.batch), Adam \(gap.learningRate)",
                                     pattern: result.pattern))
        }
        return rows
    }
}
