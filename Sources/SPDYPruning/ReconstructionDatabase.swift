import Foundation
import SPDYCore
import SPDYGraph
import SPDYTensor

/// The on-disk reconstruction database (Algorithm 3's output): a folder with `manifest.json`
/// and one self-contained safetensors file per layer (docs/formats-database.md).
///
/// A layer file holds `removal` (uint8, the weight's shape: the first level at which each
/// weight is pruned, `levelCount` if never; masks are nested) and `level.<i>` (float32, the
/// surviving weights of level `i` in the tensor's element order), plus JSON metadata with the
/// layer, fingerprints of its weight and of the calibration set, the method, the grid and the
/// per-level errors. Files are written to a temporary name and renamed, so a file that exists is
/// complete; an interrupted build resumes by skipping the layers whose files are present.
public final class ReconstructionDatabase: @unchecked Sendable {
    /// The JSON format version of the manifest and layer metadata of an unstructured database
    /// (the grid's levels). Version 2 adds `pattern`: a database of N:M levels is written as
    /// version 2, so builds that predate patterns refuse it instead of misreading it.
    public static let currentFormatVersion = 1
    /// The format version of a database with an N:M `pattern`.
    public static let patternFormatVersion = 2

    /// The format version a manifest or layer record with `pattern` is written in.
    public static func formatVersion(pattern: SparsityPattern?) -> Int { pattern == nil ? currentFormatVersion : patternFormatVersion }

    /// What the database was built from, and for.
    public struct Manifest: Codable, Sendable, Equatable {
        /// The format version.
        public var formatVersion: Int
        /// The model file it was built from (informational).
        public var model: String
        /// A digest of every prunable layer's weight (names, shapes, values).
        public var modelFingerprint: String
        /// A digest of the calibration inputs and labels.
        public var calibrationFingerprint: String
        /// The number of calibration samples.
        public var calibrationSamples: Int
        /// `exact` or `adaprune`.
        public var method: String
        /// The grid of the levels.
        public var grid: SparsityGrid
        /// The layers, in model order.
        public var layers: [String]
        /// The input marking the token positions the layer statistics counted (padding skipped),
        /// or nil when every position counted.
        public var tokenMask: String?
        /// The N:M pattern of a database whose level 1 is that pattern (grid `pattern.grid`), or
        /// nil for an unstructured database (the grid's levels).
        public var pattern: SparsityPattern?

        /// Creates a manifest.
        public init(model: String, modelFingerprint: String, calibrationFingerprint: String, calibrationSamples: Int,
                    method: String, grid: SparsityGrid, layers: [String], tokenMask: String? = nil,
                    pattern: SparsityPattern? = nil) {
            formatVersion = ReconstructionDatabase.formatVersion(pattern: pattern)
            self.model = model
            self.modelFingerprint = modelFingerprint
            self.calibrationFingerprint = calibrationFingerprint
            self.calibrationSamples = calibrationSamples
            self.method = method
            self.grid = grid
            self.layers = layers
            self.tokenMask = tokenMask
            self.pattern = pattern
        }

        /// `"N:M"` or `"unstructured"`.
        public var kind: String { pattern.map { "N:M \($0)" } ?? "unstructured" }
    }

    /// One layer file's metadata.
    public struct LayerRecord: Codable, Sendable, Equatable {
        /// The format version.
        public var formatVersion: Int
        /// The layer (its weight's name).
        public var layer: String
        /// The weight's shape.
        public var weightShape: [Int]
        /// A digest of the dense weight.
        public var weightFingerprint: String
        /// A digest of the calibration set.
        public var calibrationFingerprint: String
        /// The reconstruction method.
        public var method: String
        /// The grid.
        public var grid: SparsityGrid
        /// Per level: the normalised layer error on the calibration inputs.
        public var errors: [Double]
        /// Seconds the reconstruction took.
        public var seconds: Double
        /// The N:M pattern (databases of N:M levels only).
        public var pattern: SparsityPattern?
    }

    /// A layer as stored: masks and values of every level, in the tensor's element order.
    public struct StoredLayer: Sendable {
        /// The metadata.
        public var record: LayerRecord
        /// The first level at which each weight is pruned.
        public var removal: [UInt8]
        /// The surviving values per level.
        public var values: [[Float]]

        /// The full weight tensor's elements at `level`.
        public func weights(level: Int) -> [Float] {
            LayerLevels.expand(removal: removal, survivors: values[level], level: level)
        }
    }

    /// The folder.
    public let directory: String
    /// The manifest.
    public let manifest: Manifest
    private var cache: [String: StoredLayer] = [:]
    private let cacheLock = NSLock()

    private init(directory: String, manifest: Manifest) {
        self.directory = directory
        self.manifest = manifest
    }

    /// Opens an existing database.
    public static func open(directory: String) throws -> ReconstructionDatabase {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("manifest.json").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PruningError.database(file: path, reason: "missing: not a reconstruction database (build one with `spdy database`)")
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw PruningError.database(file: path, reason: "unreadable manifest: \(error)")
        }
        guard manifest.formatVersion == formatVersion(pattern: manifest.pattern) else {
            throw PruningError.database(file: path, reason: "format version \(manifest.formatVersion)\(manifest.pattern.map { " with pattern \($0)" } ?? ""); this build reads \(currentFormatVersion) (unstructured) and \(patternFormatVersion) (N:M)")
        }
        return ReconstructionDatabase(directory: directory, manifest: manifest)
    }

    /// Opens the database at `directory` if its manifest equals `manifest` (resuming a build), or
    /// creates it when the folder has no manifest. A different manifest is an error: the folder
    /// belongs to another model, calibration set, method or grid.
    public static func openOrCreate(directory: String, manifest: Manifest) throws -> ReconstructionDatabase {
        let folder = URL(fileURLWithPath: directory)
        let path = folder.appendingPathComponent("manifest.json").path
        if FileManager.default.fileExists(atPath: path) {
            let existing = try open(directory: directory)
            var comparable = existing.manifest
            comparable.model = manifest.model
            guard comparable == manifest else {
                let what = existing.manifest.pattern != manifest.pattern ? "\(existing.manifest.kind) levels, not \(manifest.kind) ones"
                    : existing.manifest.modelFingerprint != manifest.modelFingerprint ? "another model"
                    : existing.manifest.calibrationFingerprint != manifest.calibrationFingerprint ? "another calibration set"
                    : existing.manifest.method != manifest.method ? "method \(existing.manifest.method)"
                    : existing.manifest.grid != manifest.grid ? "another sparsity grid"
                    : existing.manifest.tokenMask != manifest.tokenMask ? "token positions \(existing.manifest.tokenMask ?? "all")" : "another layer set"
                throw PruningError.database(file: directory, reason: "was built for \(what); use a new folder or remove it")
            }
            return existing
        }
        do {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("layers"), withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(manifest), to: path)
        } catch let error as PruningError { throw error } catch {
            throw PruningError.database(file: directory, reason: "cannot create: \(error.localizedDescription)")
        }
        return ReconstructionDatabase(directory: directory, manifest: manifest)
    }

    /// The file of `layer`.
    public func path(of layer: String) -> String {
        var digest = Fingerprint()
        digest.add(layer)
        let safe = String(layer.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(120))
        return URL(fileURLWithPath: directory).appendingPathComponent("layers")
            .appendingPathComponent("\(safe)-\(digest.hex.prefix(8)).safetensors").path
    }

    /// Whether `layer`'s file exists (complete files only: writes are atomic).
    public func contains(_ layer: String) -> Bool { FileManager.default.fileExists(atPath: path(of: layer)) }

    /// The layers of the manifest that have no file yet.
    public var missingLayers: [String] { manifest.layers.filter { !contains($0) } }

    /// Writes `layer`'s levels (matrix order in `levels`) atomically.
    public func write(_ levels: LayerLevels, record: LayerRecord) throws {
        let removal = levels.layout.tensorOrder(fromMatrix: levels.removal)
        var tensors: [(name: String, tensor: Tensor)] = [
            ("removal", Tensor(shape: record.weightShape, integers: removal.map(Int64.init), dataType: .uint8)),
        ]
        for level in 0..<levels.levelCount {
            let full = levels.tensorValues(level: level)
            var survivors: [Float] = []
            for i in 0..<full.count where Int(removal[i]) > level { survivors.append(full[i]) }
            tensors.append(("level.\(level)", Tensor(shape: [survivors.count], floats: survivors)))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadata = String(decoding: try encoder.encode(record), as: UTF8.self)
        let bytes = SafeTensors.encode(tensors, metadata: ["spdy": metadata])
        try Self.writeAtomically(Data(bytes), to: path(of: record.layer))
    }

    /// Reads and validates `layer`'s file (cached).
    public func layer(_ layer: String) throws -> StoredLayer {
        cacheLock.lock()
        if let known = cache[layer] { cacheLock.unlock(); return known }
        cacheLock.unlock()
        let file = path(of: layer)
        guard FileManager.default.fileExists(atPath: file) else {
            throw PruningError.database(file: file, reason: "layer '\(layer)' has not been built (run `spdy database` again to finish)")
        }
        let decoded: (tensors: [String: Tensor], metadata: [String: String])
        do { decoded = try SafeTensors.readWithMetadata(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw PruningError.database(file: file, reason: "corrupt: \(error)")
        }
        guard let text = decoded.metadata["spdy"],
              let record = try? JSONDecoder().decode(LayerRecord.self, from: Data(text.utf8)) else {
            throw PruningError.database(file: file, reason: "corrupt: no readable layer metadata")
        }
        func fail(_ reason: String) -> PruningError { .database(file: file, reason: reason) }
        guard record.formatVersion == Self.formatVersion(pattern: record.pattern) else { throw fail("format version \(record.formatVersion)") }
        guard record.layer == layer else { throw fail("holds layer '\(record.layer)', not '\(layer)'") }
        guard record.calibrationFingerprint == manifest.calibrationFingerprint, record.method == manifest.method,
              record.grid == manifest.grid, record.pattern == manifest.pattern else {
            throw fail("was built with another calibration set, method, grid or N:M pattern than the manifest says")
        }
        let count = record.weightShape.reduce(1, *)
        guard let removalTensor = decoded.tensors["removal"], removalTensor.dataType == .uint8, removalTensor.count == count else {
            throw fail("corrupt: 'removal' missing or not uint8 of shape \(record.weightShape)")
        }
        let levelCount = manifest.grid.count
        let removal = removalTensor.integers.map { UInt8(truncatingIfNeeded: $0) }
        guard removal.allSatisfy({ Int($0) >= 1 && Int($0) <= levelCount }) else { throw fail("corrupt: removal levels outside 1…\(levelCount)") }
        var histogram = [Int](repeating: 0, count: levelCount + 1)
        for r in removal { histogram[Int(r)] += 1 }
        var values: [[Float]] = []
        var survivors = count
        for level in 0..<levelCount {
            survivors -= histogram[level]
            guard let tensor = decoded.tensors["level.\(level)"], tensor.dataType == .float32, tensor.count == survivors else {
                throw fail("corrupt: 'level.\(level)' missing or not \(survivors) float32 values")
            }
            let floats = tensor.floats
            guard floats.allSatisfy(\.isFinite) else { throw fail("corrupt: level \(level) has non-finite weights") }
            values.append(floats)
        }
        guard record.errors.count == levelCount else { throw fail("corrupt: \(record.errors.count) errors for \(levelCount) levels") }
        let stored = StoredLayer(record: record, removal: removal, values: values)
        cacheLock.lock()
        cache[layer] = stored
        cacheLock.unlock()
        return stored
    }

    /// Throws unless the database's kind fits its use: `pattern` nil for uses that pick levels
    /// on the grid (search, profiles of `spdy prune --speedup`), the same pattern for N:M runs.
    public func require(pattern expected: SparsityPattern?, for use: String) throws {
        guard manifest.pattern != expected else { return }
        let advice = manifest.pattern == nil
            ? "build one with `spdy database … --pattern \(expected!)` (or let `spdy prune --pattern \(expected!)` build it)"
            : "it holds one level per layer; use it with `spdy apply --db` (no profile needed) or `spdy prune --pattern \(manifest.pattern!)`"
        throw PruningError.database(file: directory, reason: "holds \(manifest.kind) levels; \(use) needs \(expected.map { "N:M \($0)" } ?? "an unstructured database"): \(advice)")
    }

    /// Checks the database against `graph`: every prunable layer of the manifest is in the graph
    /// with the same weight (fingerprint), and every file is present and readable.
    public func validate(against graph: Graph, layers: [PrunableLayer]) throws {
        let byID = Dictionary(layers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in manifest.layers {
            guard let layer = byID[id] else {
                throw PruningError.database(file: directory, reason: "layer '\(id)' is not a prunable layer of this model (database from another model?)")
            }
            let stored = try self.layer(id)
            guard stored.record.weightShape == layer.weightShape else {
                throw PruningError.database(file: path(of: id), reason: "weight shape \(stored.record.weightShape), but the model's '\(id)' is \(layer.weightShape)")
            }
            guard stored.record.weightFingerprint == Self.weightFingerprint(graph: graph, layer: id) else {
                throw PruningError.database(file: path(of: id), reason: "built from other weights than the model's '\(id)' (database from another model?)")
            }
        }
    }

    /// The digest of a layer's dense weight in `graph`.
    public static func weightFingerprint(graph: Graph, layer: String) -> String {
        var digest = Fingerprint()
        digest.add(layer)
        if let tensor = try? Stitcher.weight(layer, in: graph) {
            digest.add(tensor.shape)
            digest.add(tensor.floats)
        }
        return digest.hex
    }

    /// The digest of every listed layer's weight.
    public static func modelFingerprint(graph: Graph, layers: [String]) -> String {
        var digest = Fingerprint()
        for id in layers { digest.add(weightFingerprint(graph: graph, layer: id)) }
        return digest.hex
    }

    /// Writes `data` to a temporary file beside `path` and renames it over `path` (rename(2)
    /// replaces atomically: readers see the old file or the new one, never none).
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try data.write(to: temporary)
            guard rename(temporary.path, path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw PruningError.database(file: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
