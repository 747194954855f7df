import Foundation
import SPDYCore

/// The Markdown report of a pipeline run with SVG plots: per-layer sparsity profiles, timing
/// prediction against measurement, and loss/accuracy against measured speed per method.
enum RunReport {
    static let colours = ["spdy": "#d62728", "uniform": "#1f77b4", "global-magnitude": "#2ca02c", "dense": "#000000",
                          "spdy+gap": "#8c1a1a", "uniform+gap": "#123f66", "global-magnitude+gap": "#1a601a"]

    /// Writes `report.md` and its SVG files into `folder`; returns the report's path.
    static func write(folder: String, model: String, table: TimingTable, dense: MethodResult, results: [MethodResult],
                      excluded: Set<LayerID>, settings: String) throws -> String {
        let url = URL(fileURLWithPath: folder)
        var md = "# SPDY run: \(URL(fileURLWithPath: model).lastPathComponent)\n\n"
        md += "\(settings)\n\nTiming table: engine \(table.engine), batch \(table.batch ?? 0), \(table.threads ?? 0) threads, \(table.machine ?? "unknown machine"); "
        md += String(format: "dense %.3f ms, of which %.3f ms outside the prunable layers.\n\n", table.baseSeconds * 1e3, table.overheadSeconds * 1e3)
        md += "## Results\n\n```\n" + ProfileReport.comparison([dense] + results) + "\n```\n\n"
        md += "Predicted: the timing model (Σ layer times + overhead). Measured: dense and pruned models timed interleaved on the engine, ratio of medians. "
        md += "Calibration loss: the search's objective. Held-out: accuracy against labels, or agreement with the dense model's top-1.\n\n"
        let targets = Array(Set(results.map(\.target))).sorted()
        try svgScatter(results + [dense], x: { $0.measuredSpeedup }, y: { $0.calibration?.loss }, xLabel: "measured speedup", yLabel: "calibration loss")
            .write(to: url.appendingPathComponent("loss-vs-speed.svg"), atomically: true, encoding: .utf8)
        md += "![loss against measured speedup](loss-vs-speed.svg)\n\n"
        if results.contains(where: { $0.heldOut?.accuracy != nil }) {
            try svgScatter(results + [dense], x: { $0.measuredSpeedup }, y: { $0.heldOut?.accuracy.map { 100 * $0 } },
                           xLabel: "measured speedup", yLabel: "held-out accuracy (%)")
                .write(to: url.appendingPathComponent("accuracy-vs-speed.svg"), atomically: true, encoding: .utf8)
            md += "![held-out accuracy against measured speedup](accuracy-vs-speed.svg)\n\n"
        }
        if results.contains(where: { $0.heldOut?.cosine != nil }) {
            try svgScatter(results + [dense], x: { $0.measuredSpeedup }, y: { $0.heldOut?.cosine },
                           xLabel: "measured speedup", yLabel: "held-out cosine to dense")
                .write(to: url.appendingPathComponent("cosine-vs-speed.svg"), atomically: true, encoding: .utf8)
            md += "![held-out cosine similarity to the dense outputs against measured speedup](cosine-vs-speed.svg)\n\n"
        }
        try svgScatter(results, x: { $0.predictedSpeedup }, y: { $0.measuredSpeedup }, xLabel: "predicted speedup",
                       yLabel: "measured speedup", diagonal: true)
            .write(to: url.appendingPathComponent("predicted-vs-measured.svg"), atomically: true, encoding: .utf8)
        md += "![measured against predicted speedup](predicted-vs-measured.svg)\n\n"
        for target in targets {
            // gAP rows share their one-shot model's profile.
            let rows = results.filter { $0.target == target && $0.profile != nil && !$0.method.hasSuffix("+gap") }
            guard !rows.isEmpty else { continue }
            let name = String(format: "profile-%gx.svg", target)
            try svgProfiles(rows, layers: table.layers.map(\.layer), excluded: excluded)
                .write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
            md += String(format: "## Profiles at %g×\n\n", target) + "![per-layer sparsity](\(name))\n\n"
            var text = TextTable(columns: ["layer"] + rows.map(\.method))
            for layer in table.layers.map(\.layer) {
                text.add([layer.name + (excluded.contains(layer) ? " (excluded)" : "")]
                         + rows.map { r in r.profile?.layers.first { $0.layer == layer }.map { String(format: "%.1f%%", 100 * $0.sparsity) } ?? "-" })
            }
            md += "```\n" + text.render() + "\n```\n\n"
        }
        let path = url.appendingPathComponent("report.md").path
        try md.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A scatter plot, one colour per method.
    static func svgScatter(_ rows: [MethodResult], x: (MethodResult) -> Double?, y: (MethodResult) -> Double?,
                           xLabel: String, yLabel: String, diagonal: Bool = false) -> String {
        let points = rows.compactMap { r -> (String, Double, Double)? in
            guard let a = x(r), let b = y(r), a.isFinite, b.isFinite else { return nil }
            return (r.method, a, b)
        }
        let w = 520.0, h = 340.0, left = 70.0, bottom = 50.0, top = 20.0, right = 130.0
        var xs = points.map(\.1), ys = points.map(\.2)
        if diagonal { xs += ys; ys = xs }
        let x0 = (xs.min() ?? 0) * 0.95, x1 = max((xs.max() ?? 1) * 1.05, x0 + 1e-9)
        let y0 = min((ys.min() ?? 0), 0) == 0 && !diagonal ? (ys.min() ?? 0) - 0.05 * abs(ys.min() ?? 1) : (ys.min() ?? 0) * 0.95
        let y1 = max((ys.max() ?? 1) + 0.05 * abs(ys.max() ?? 1), y0 + 1e-9)
        func px(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * (w - left - right) }
        func py(_ v: Double) -> Double { h - bottom - (v - y0) / (y1 - y0) * (h - bottom - top) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(h - bottom)\" x2=\"\(w - right)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        for i in 0...4 {
            let vx = x0 + (x1 - x0) * Double(i) / 4, vy = y0 + (y1 - y0) * Double(i) / 4
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>\n", px(vx), h - bottom + 15, vx)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", left - 5, py(vy) + 4, vy)
        }
        svg += "<text x=\"\((left + w - right) / 2)\" y=\"\(h - 12)\" text-anchor=\"middle\">\(xLabel)</text>\n"
        svg += "<text transform=\"translate(15,\((top + h - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">\(yLabel)</text>\n"
        if diagonal {
            let lo = max(x0, y0), hi = min(x1, y1)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4\"/>\n", px(lo), py(lo), px(hi), py(hi))
        }
        for (method, a, b) in points {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%@\"/>\n", px(a), py(b), colours[method] ?? "#888888")
        }
        for (i, method) in Array(Set(points.map(\.0))).sorted().enumerated() {
            let ly = top + 10 + Double(i) * 16
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%@\"/><text x=\"%.1f\" y=\"%.1f\">%@</text>\n",
                          w - right + 15, ly, colours[method] ?? "#888888", w - right + 25, ly + 4, method)
        }
        return svg + "</svg>\n"
    }

    /// Grouped bars: per layer, the sparsity each method gives it.
    static func svgProfiles(_ rows: [MethodResult], layers: [LayerID], excluded: Set<LayerID>) -> String {
        let barWidth = 6.0, groupWidth = barWidth * Double(rows.count) + 6
        let left = 50.0, bottom = 30.0, top = 20.0, h = 260.0
        let w = left + groupWidth * Double(layers.count) + 140
        func py(_ s: Double) -> Double { h - bottom - s * (h - bottom - top) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        for s in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n",
                          left, py(s), w - 140, py(s), left - 4, py(s) + 4, 100 * s)
        }
        for (l, layer) in layers.enumerated() {
            let x = left + Double(l) * groupWidth + 3
            for (m, row) in rows.enumerated() {
                let sparsity = row.profile?.layers.first { $0.layer == layer }?.sparsity ?? 0
                svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"><title>%@ %@ %.1f%%</title></rect>\n",
                              x + Double(m) * barWidth, py(sparsity), barWidth - 1, py(0) - py(sparsity),
                              colours[row.method] ?? "#888888", layer.name, row.method, 100 * sparsity)
            }
            if excluded.contains(layer) {
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\">x</text>\n", x, h - bottom + 12)
            }
        }
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\">layers in model order (x: excluded)</text>\n", left, h - 5)
        for (m, row) in rows.enumerated() {
            let ly = top + 10 + Double(m) * 16
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%@\"/><text x=\"%.1f\" y=\"%.1f\">%@</text>\n",
                          w - 125, ly - 8, colours[row.method] ?? "#888888", w - 110, ly + 1, row.method)
        }
        return svg + "</svg>\n"
    }
}
