import Foundation
import SPDYCore

/// Text renderings of profiles and comparisons for the terminal.
enum ProfileReport {
    /// Per layer: level, sparsity, dense and pruned time; then the totals.
    static func text(_ profile: Profile, table: TimingTable, excluded: Set<LayerID>) -> String {
        var text = TextTable(columns: ["layer", "level", "sparsity", "dense ms", "pruned ms"])
        for entry in profile.layers {
            guard let timing = table.layers.first(where: { $0.layer == entry.layer }) else { continue }
            let pruned = timing.seconds(at: entry.level) ?? .nan
            text.add([entry.layer.name + (excluded.contains(entry.layer) ? " (excluded)" : ""), String(entry.level.index),
                      String(format: "%.1f%%", 100 * entry.sparsity), String(format: "%.4f", timing.denseSeconds * 1e3),
                      String(format: "%.4f", pruned * 1e3)])
        }
        var lines = [text.render()]
        lines.append(String(format: "predicted speedup %.3f× (target %@), calibration loss %@",
                            profile.predictedSpeedup ?? .nan, profile.targetSpeedup.map { String(format: "%g×", $0) } ?? "-",
                            profile.loss.map { String(format: "%.5f", $0) } ?? "-"))
        return lines.joined(separator: "\n")
    }

    /// The comparison table: one row per method and target.
    static func comparison(_ rows: [MethodResult]) -> String {
        var text = TextTable(columns: ["target", "method", "predicted", "measured", "ms", "calib loss", "calib acc", "held-out loss", "held-out acc/cos"])
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "-" }
        for r in rows {
            if r.profile == nil && r.method != "dense" {
                text.add([String(format: "%g×", r.target), r.method, "infeasible", "-", "-", "-", "-", "-", "-"])
                continue
            }
            text.add([r.method == "dense" ? "-" : r.pattern ?? String(format: "%g×", r.target), r.method,
                      f(r.predictedSpeedup, "%.2f×"), f(r.measuredSpeedup, "%.2f×"), f(r.medianMs, "%.3f"),
                      f(r.calibration?.loss, "%.4f"), f(r.calibration?.accuracy.map { 100 * $0 }, "%.2f%%"),
                      f(r.heldOut?.loss, "%.4f"),
                      r.heldOut?.accuracy != nil ? f(r.heldOut?.accuracy.map { 100 * $0 }, "%.2f%%") : f(r.heldOut?.cosine, "cos %.5f")])
        }
        return text.render()
    }
}
