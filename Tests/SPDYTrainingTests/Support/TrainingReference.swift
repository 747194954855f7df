import Foundation
import SPDYTensor

/// A PyTorch reference case made by scripts/fixtures/export_training_reference.py
/// (`.cache/fixtures/training_reference/NAME/manifest.json`; scripts/prepare_fixtures.sh builds it).
struct TrainingReference {
    struct Gradient: Decodable {
        var shape: [Int]
        /// The whole gradient, or…
        var file: String?
        /// …its nonzero rows (axis 0) and their values.
        var rows: String?
        var values: String?
    }

    struct Manifest: Decodable {
        var name: String
        /// Repository-relative (models/…) or relative to the fixtures directory.
        var model: String
        var inputs: [String: String]
        var gradients: [String: Gradient]
        var arrays: [String: String]
        var loss: String
        var loss_value: Double
        var batch_norm: String
        var layers: [String]?
        var masks: [String: String]?
        var statistics: [String: String]?
        var output: String?
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }
    static var fixtures: URL { repositoryRoot.appendingPathComponent(".cache/fixtures") }
    static var directory: URL { fixtures.appendingPathComponent("training_reference") }

    /// Whether case `name` has been generated.
    static func available(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("\(name)/manifest.json").path)
    }

    /// The message shown when a case is skipped.
    static let missing = "PyTorch reference gradients missing: scripts/prepare_fixtures.sh training_reference makes them (scripts/test.sh does)"

    let manifest: Manifest
    let caseDirectory: URL

    init(_ name: String) throws {
        caseDirectory = Self.directory.appendingPathComponent(name)
        manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: caseDirectory.appendingPathComponent("manifest.json")))
    }

    /// The model file.
    var modelURL: URL {
        manifest.model.hasPrefix("models/") ? Self.repositoryRoot.appendingPathComponent(manifest.model)
            : Self.fixtures.appendingPathComponent(manifest.model)
    }

    func array(_ file: String) throws -> Tensor { try NPY.read(contentsOf: caseDirectory.appendingPathComponent(file)) }

    func inputs() throws -> [String: Tensor] { try manifest.inputs.mapValues(array) }

    /// The reference gradient of `name` as a dense float array (rows expanded), or nil.
    func gradient(_ name: String) throws -> [Float]? {
        guard let g = manifest.gradients[name] else { return nil }
        if let file = g.file { return try array(file).floats }
        let rows = try array(g.rows!).integers, values = try array(g.values!).floats
        let width = g.shape.dropFirst().reduce(1, *)
        var dense = [Float](repeating: 0, count: g.shape.reduce(1, *))
        for (k, row) in rows.enumerated() {
            for j in 0..<width { dense[Int(row) * width + j] = values[k * width + j] }
        }
        return dense
    }
}
