import Foundation
import SPDYCore

/// What `spdy solve` prints, as text or JSON.
struct SolveReport: Encodable {
    /// The table's file name.
    var timings: String?
    var engine: String
    var grid: SparsityGrid
    var buckets: Int
    var targetSpeedup: Double
    var maximumSpeedup: Double
    var excluded: [LayerID]
    var repairs: [String]
    var profile: Profile
    var uniform: Profile?
    var uniformError: String?
    var layerSeconds: [Double]
    var uniformLayerSeconds: [Double]?

    init(table: TimingTable, problem: SolverProblem, profile: Profile, uniform: Result<Profile, BaselineError>) {
        timings = table.source
        engine = table.engine
        grid = table.grid
        buckets = problem.buckets
        targetSpeedup = problem.budget.targetSpeedup
        maximumSpeedup = problem.budget.maximumSpeedup
        excluded = problem.budget.excludedLayers.map { table.layers[$0].layer }
        repairs = table.repairs.map(\.description)
        self.profile = profile
        layerSeconds = zip(table.layers, profile.layers).map { $0.seconds(at: $1.level) ?? .nan }
        switch uniform {
        case let .success(profile):
            self.uniform = profile
            uniformLayerSeconds = zip(table.layers, profile.layers).map { $0.seconds(at: $1.level) ?? .nan }
        case let .failure(error):
            uniformError = error.description
        }
    }

    private enum CodingKeys: String, CodingKey {
        case timings, engine, grid, buckets, targetSpeedup, maximumSpeedup, excluded, repairs, profile, uniform
        case uniformError
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    func text() -> String {
        var lines: [String] = []
        let excludedSet = Set(excluded)
        lines.append("timings: \(timings ?? "-") (\(engine), \(profile.layers.count) layers, \(grid))")
        lines.append("target: \(String(format: "%.3f", targetSpeedup))×   largest achievable: "
            + "\(String(format: "%.3f", maximumSpeedup))×   buckets: \(buckets)")
        if !excluded.isEmpty { lines.append("excluded (dense, charged): " + excluded.map(\.name).joined(separator: ", ")) }
        let width = max(5, profile.layers.map(\.layer.name.count).max() ?? 5)
        lines.append("")
        lines.append("  #  " + "layer".padding(toLength: width, withPad: " ", startingAt: 0)
            + "  level  sparsity  time (ms)   uniform level  sparsity")
        for (index, entry) in profile.layers.enumerated() {
            var line = String(format: "%3d  ", index) + entry.layer.name.padding(toLength: width, withPad: " ", startingAt: 0)
            line += String(format: "  %5d  %8.4f  %9.4f", entry.level.index, entry.sparsity, layerSeconds[index] * 1e3)
            if let uniform {
                let u = uniform.layers[index]
                line += String(format: "   %13d  %8.4f", u.level.index, u.sparsity)
            }
            if excludedSet.contains(entry.layer) { line += "  (excluded)" }
            lines.append(line)
        }
        lines.append("")
        lines.append("predicted speedup (DP, prior costs): "
            + String(format: "%.4f×", profile.predictedSpeedup ?? .nan))
        if let uniform, let uniformLevel = uniform.layers.first(where: { !excludedSet.contains($0.layer) }) {
            lines.append("predicted speedup (uniform \(format(uniformLevel.sparsity)) = level \(uniformLevel.level.index)): "
                + String(format: "%.4f×", uniform.predictedSpeedup ?? .nan))
        } else if let uniformError {
            lines.append("uniform: " + uniformError)
        }
        return lines.joined(separator: "\n")
    }

    private func format(_ sparsity: Double) -> String { String(format: "%.4f", sparsity) }
}
