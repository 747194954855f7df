import Foundation
import SPDYTensor

/// A model exported by scripts/fixtures with its ONNX Runtime reference inputs and outputs
/// (`.cache/fixtures/NAME.onnx` and `NAME.ref/manifest.json`), made by scripts/prepare_fixtures.sh.
struct ReferenceFixture {
    struct Entry: Decodable {
        var name: String
        var file: String
        var shape: [Int]
        var max_abs: Double?
    }

    struct Manifest: Decodable {
        var name: String
        var model: String
        var inputs: [Entry]
        var outputs: [Entry]
        var images: [Image]?
        var hf_dir: String?
    }

    struct Image: Decodable {
        var image: String
        var top1: Int
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var directory: URL { repositoryRoot.appendingPathComponent(".cache/fixtures") }

    let manifest: Manifest
    let modelURL: URL
    let referenceDirectory: URL

    /// Loads fixture `name`; fails with a message naming the command that makes it.
    init(_ name: String) throws {
        referenceDirectory = Self.directory.appendingPathComponent("\(name).ref")
        let manifestURL = referenceDirectory.appendingPathComponent("manifest.json")
        guard FileManager.default.fileExists(atPath: manifestURL.path) else {
            throw FixtureMissing(path: manifestURL.path)
        }
        manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
        modelURL = Self.directory.appendingPathComponent(manifest.model)
    }

    /// The reference inputs by name.
    func inputs() throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        for entry in manifest.inputs {
            feeds[entry.name] = try NPY.read(contentsOf: referenceDirectory.appendingPathComponent(entry.file))
        }
        return feeds
    }

    /// The reference outputs by name.
    func outputs() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for entry in manifest.outputs {
            result[entry.name] = try NPY.read(contentsOf: referenceDirectory.appendingPathComponent(entry.file))
        }
        return result
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "fixture \(path) is missing: run scripts/prepare_fixtures.sh (scripts/test.sh does)" }
    }
}

/// Largest absolute elementwise difference of two float tensors of one shape.
func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    var worst: Float = 0
    let x = a.floats, y = b.floats
    for i in 0..<x.count {
        let d = abs(x[i] - y[i])
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// Largest absolute value of a float tensor.
func maxAbs(_ a: Tensor) -> Float { a.floats.reduce(0) { max($0, abs($1)) } }
