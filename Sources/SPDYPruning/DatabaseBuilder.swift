import Dispatch
import Foundation
import SPDYCore
import SPDYGraph

/// Builds a reconstruction database (Algorithm 3): captures the prunable layers' inputs in the
/// dense model on the calibration set, then reconstructs every level of every layer and writes
/// each layer's file as soon as it is done. Layers already in the folder are skipped, so an
/// interrupted build resumes where it stopped. Layers are processed in groups whose input
/// statistics fit `memoryBudgetBytes`, one calibration pass per group.
///
/// With a ``pattern`` the database holds one pruned level per layer instead of the grid's: the
/// layer's N:M mask and weights reconstructed for it (grid `pattern.grid`: dense and N:M).
public struct DatabaseBuilder {
    /// Reconstruction methods.
    public enum Method: String, Sendable, CaseIterable {
        /// Nested OBS masks, exact least-squares weights (``ExactReconstructor``).
        case exact
        /// The reference's AdaPrune (``AdaPruneReconstructor``).
        case adaprune
    }

    /// What the progress callback sees.
    public enum Event: Sendable {
        /// A layer was already in the folder.
        case skipped(layer: String)
        /// A calibration pass for `layers` advanced.
        case capturing(layers: Int, samples: Int, of: Int)
        /// A layer was built and written.
        case built(layer: String, index: Int, of: Int, seconds: Double, errors: [Double])
    }

    /// The model.
    public var graph: Graph
    /// Its model file (recorded in the manifest).
    public var modelPath: String
    /// The layers to build (all prunable layers by default).
    public var layers: [PrunableLayer]
    /// The calibration set.
    public var calibration: CalibrationSet
    /// The method.
    public var method: Method
    /// The grid.
    public var grid: SparsityGrid
    /// Threads.
    public var threads: Int
    /// Calibration batch size of the capture (and AdaPrune's batch).
    public var batchSize: Int
    /// Upper bound on the input statistics held at once.
    public var memoryBudgetBytes: Int
    /// Seed (AdaPrune's batch order).
    public var seed: UInt64
    /// The layers the manifest lists, when more than ``layers`` (a build split over processes).
    public var manifestLayers: [String]? = nil
    /// The N:M pattern of an N:M database (setting one sets ``grid`` to `pattern.grid`; setting
    /// nil leaves the grid as it is), nil for the grid's levels.
    public var pattern: SparsityPattern? {
        didSet { if let pattern { grid = pattern.grid } }
    }

    /// Creates a builder.
    public init(graph: Graph, modelPath: String, layers: [PrunableLayer], calibration: CalibrationSet,
                method: Method = .exact, grid: SparsityGrid = .standard, threads: Int = 1, batchSize: Int = 32,
                memoryBudgetBytes: Int = 4 << 30, seed: UInt64 = 0, pattern: SparsityPattern? = nil) {
        self.graph = graph
        self.modelPath = modelPath
        self.layers = layers
        self.calibration = calibration
        self.method = method
        self.grid = grid
        self.threads = threads
        self.batchSize = batchSize
        self.memoryBudgetBytes = memoryBudgetBytes
        self.seed = seed
        self.pattern = pattern
        if let pattern { self.grid = pattern.grid }
    }

    /// Splits `layers` into those an N:M `pattern` fits and those it does not (kept dense), with
    /// the reason for each of the latter.
    public static func partition(_ layers: [PrunableLayer], graph: Graph, pattern: SparsityPattern) throws
        -> (fitting: [PrunableLayer], skipped: [(layer: PrunableLayer, reason: String)])
    {
        var fitting: [PrunableLayer] = [], skipped: [(PrunableLayer, String)] = []
        for layer in layers {
            do {
                _ = try PatternGroups(pattern: pattern, layer: layer, layout: try WeightLayout(layer: layer, graph: graph))
                fitting.append(layer)
            } catch let PruningError.unsupportedLayer(_, reason) {
                skipped.append((layer, reason))
            }
        }
        return (fitting, skipped)
    }

    /// The manifest of the database this builder makes.
    public func manifest() -> ReconstructionDatabase.Manifest {
        let ids = manifestLayers ?? layers.map(\.id)
        return .init(model: modelPath, modelFingerprint: ReconstructionDatabase.modelFingerprint(graph: graph, layers: ids),
                     calibrationFingerprint: calibration.fingerprint, calibrationSamples: calibration.sampleCount,
                     method: method.rawValue, grid: grid, layers: ids, tokenMask: calibration.tokenMaskInput, pattern: pattern)
    }

    /// Builds (or finishes) the database in `directory`.
    @discardableResult
    public func build(directory: String, progress: (Event) -> Void = { _ in }) throws -> ReconstructionDatabase {
        let database = try ReconstructionDatabase.openOrCreate(directory: directory, manifest: manifest())
        var pending: [PrunableLayer] = []
        for layer in layers {
            if database.contains(layer.id) { progress(.skipped(layer: layer.id)) } else { pending.append(layer) }
        }
        let total = layers.count
        var done = total - pending.count
        for group in try memoryGroups(pending) {
            let hessians = try LayerCapture.hessians(
                graph: graph, layers: group, calibration: calibration, batchSize: batchSize, threads: threads,
                keepBatches: method == .adaprune,
                progress: { progress(.capturing(layers: group.count, samples: $0, of: $1)) })
            for layer in group {
                let start = DispatchTime.now().uptimeNanoseconds
                let hessian = hessians[layer.id]!
                let dense = try Stitcher.weight(layer.id, in: graph)
                let weights = hessian.layout.matrix(fromTensorOrder: dense.floats)
                let groups = try pattern.map { try PatternGroups(pattern: $0, layer: layer, layout: hessian.layout) }
                let levels: LayerLevels
                switch (method, groups) {
                case (.exact, nil):
                    levels = try ExactReconstructor(threads: threads).reconstruct(weights: weights, hessian: hessian, grid: grid)
                case let (.exact, groups?):
                    levels = try ExactReconstructor(threads: threads).reconstruct(weights: weights, hessian: hessian, groups: groups)
                case (.adaprune, nil):
                    levels = try AdaPruneReconstructor(seed: seed).reconstruct(weights: weights, hessian: hessian, grid: grid)
                case let (.adaprune, groups?):
                    levels = try AdaPruneReconstructor(seed: seed).reconstruct(weights: weights, hessian: hessian, groups: groups)
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let record = ReconstructionDatabase.LayerRecord(
                    formatVersion: ReconstructionDatabase.formatVersion(pattern: pattern), layer: layer.id, weightShape: layer.weightShape,
                    weightFingerprint: ReconstructionDatabase.weightFingerprint(graph: graph, layer: layer.id),
                    calibrationFingerprint: database.manifest.calibrationFingerprint, method: method.rawValue, grid: grid,
                    errors: levels.errors, seconds: seconds, pattern: pattern)
                try database.write(levels, record: record)
                done += 1
                progress(.built(layer: layer.id, index: done, of: total, seconds: seconds, errors: levels.errors))
            }
        }
        return database
    }

    /// Consecutive groups of layers whose statistics fit the memory budget (at least one each).
    private func memoryGroups(_ layers: [PrunableLayer]) throws -> [[PrunableLayer]] {
        var groups: [[PrunableLayer]] = []
        var current: [PrunableLayer] = [], bytes = 0
        let batches = (calibration.sampleCount + batchSize - 1) / batchSize
        for layer in layers {
            let layout = try WeightLayout(layer: layer, graph: graph)
            var size = layout.groups * layout.columns * layout.columns * 8
            if method == .adaprune { size += batches * layout.groups * layout.columns * layout.columns * 4 }
            if !current.isEmpty, bytes + size > memoryBudgetBytes {
                groups.append(current)
                current = []
                bytes = 0
            }
            current.append(layer)
            bytes += size
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}
