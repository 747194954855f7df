import Foundation
import SPDYGraph
import SPDYTensor

/// A calibration (or evaluation) set: one `.npy` per model input, first axis = samples, and an
/// optional `labels.npy` (integer class per sample), all in one folder.
///
/// Loading checks every model input has its file, that all files agree on the sample count,
/// and that each sample's shape and element type fit the model's declared input.
public struct CalibrationSet: Sendable {
    /// The folder the set was read from.
    public let directory: String
    /// Each model input's samples (first axis = samples).
    public let inputs: [String: Tensor]
    /// The class of each sample, if the folder has `labels.npy`.
    public let labels: [Int]?
    /// The number of samples.
    public let sampleCount: Int

    /// Reads the set for `graph` from `directory`.
    public init(directory: String, graph: Graph) throws {
        self.directory = directory
        let folder = URL(fileURLWithPath: directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PruningError.calibration(file: directory, reason: "no such folder")
        }
        var inputs: [String: Tensor] = [:]
        var count: Int? = nil
        for input in graph.inputs {
            let path = folder.appendingPathComponent("\(input.name).npy").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw PruningError.calibration(file: path, reason: "missing: the model input '\(input.name)' needs its samples here")
            }
            let tensor: Tensor
            do { tensor = try NPY.read(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw PruningError.calibration(file: path, reason: "\(error)")
            }
            try Self.check(tensor, against: input, file: path)
            if let count, tensor.shape[0] != count {
                throw PruningError.calibration(file: path, reason: "\(tensor.shape[0]) samples, but other inputs have \(count)")
            }
            count = tensor.shape[0]
            inputs[input.name] = tensor
        }
        guard let count, count > 0 else { throw PruningError.calibration(file: directory, reason: "no samples") }
        let labelPath = folder.appendingPathComponent("labels.npy").path
        if FileManager.default.fileExists(atPath: labelPath) {
            let tensor: Tensor
            do { tensor = try NPY.read(contentsOf: URL(fileURLWithPath: labelPath)) } catch {
                throw PruningError.calibration(file: labelPath, reason: "\(error)")
            }
            guard tensor.dataType.isInteger, tensor.rank == 1 else {
                throw PruningError.calibration(file: labelPath, reason: "labels must be integers of shape [samples], got \(tensor.dataType)\(tensor.shape)")
            }
            guard tensor.shape[0] == count else {
                throw PruningError.calibration(file: labelPath, reason: "\(tensor.shape[0]) labels for \(count) samples")
            }
            labels = tensor.integers.map { Int($0) }
        } else {
            labels = nil
        }
        self.inputs = inputs
        self.sampleCount = count
    }

    /// A set from tensors in memory (tests, generated data).
    public init(inputs: [String: Tensor], labels: [Int]? = nil, directory: String = "<memory>") {
        precondition(!inputs.isEmpty, "at least one input")
        let count = inputs.values.first!.shape.first ?? 0
        precondition(inputs.values.allSatisfy { $0.shape.first == count }, "inputs disagree on the sample count")
        precondition(labels.map { $0.count == count } ?? true, "one label per sample")
        self.directory = directory
        self.inputs = inputs
        self.labels = labels
        self.sampleCount = count
    }

    private static func check(_ tensor: Tensor, against input: ValueInfo, file: String) throws {
        guard tensor.rank >= 1, tensor.shape[0] > 0 else {
            throw PruningError.calibration(file: file, reason: "expected samples along the first axis, got shape \(tensor.shape)")
        }
        let floatModel = input.dataType == .float32
        guard floatModel ? tensor.dataType == .float32 : tensor.dataType.isInteger || tensor.dataType == input.dataType else {
            throw PruningError.calibration(file: file, reason: "element type \(tensor.dataType), but input '\(input.name)' is \(input.dataType)")
        }
        guard let declared = input.shape else { return }
        guard declared.count == tensor.rank else {
            throw PruningError.calibration(file: file, reason: "shape \(tensor.shape) has rank \(tensor.rank), but input '\(input.name)' has rank \(declared.count)")
        }
        for (axis, dim) in declared.enumerated().dropFirst() {
            if case let .fixed(size) = dim, size != tensor.shape[axis] {
                throw PruningError.calibration(file: file, reason: "shape \(tensor.shape): axis \(axis) must be \(size) for input '\(input.name)'")
            }
        }
    }

    /// The samples `range` of every input.
    public func batch(_ range: Range<Int>) -> [String: Tensor] {
        inputs.mapValues { Self.slice($0, range) }
    }

    /// The per-input shapes of a batch of `size` samples.
    public func shapes(batch size: Int) -> [String: [Int]] {
        inputs.mapValues { [size] + $0.shape.dropFirst() }
    }

    /// The first `count` samples (all when `count` is at least the sample count).
    public func prefix(_ count: Int) -> CalibrationSet {
        guard count < sampleCount else { return self }
        return CalibrationSet(inputs: batch(0..<count), labels: labels.map { Array($0.prefix(count)) }, directory: directory)
    }

    /// Consecutive batches of at most `size` samples covering the set.
    public func batchRanges(size: Int) -> [Range<Int>] {
        precondition(size > 0, "batch size must be positive")
        return stride(from: 0, to: sampleCount, by: size).map { $0..<min($0 + size, sampleCount) }
    }

    /// The input that marks real tokens (nonzero) against padding (0) in transformer batches:
    /// `attention_mask` when the set has it as `[samples × sequence]`. Layer statistics skip the
    /// padded positions: they never reach a mean-pooled embedding or a [CLS] logit, and short
    /// texts padded to a common length are half padding (fortunes at 64 tokens: 48%).
    public var tokenMaskInput: String? {
        guard let mask = inputs[Self.tokenMaskName], mask.rank == 2 else { return nil }
        return Self.tokenMaskName
    }

    static let tokenMaskName = "attention_mask"

    /// Per token of the samples `range` (row-major `[count × sequence]`), whether it is real; nil
    /// without ``tokenMaskInput``.
    public func tokenMask(_ range: Range<Int>) -> [Bool]? {
        guard tokenMaskInput != nil, let mask = inputs[Self.tokenMaskName] else { return nil }
        let slice = Self.slice(mask, range)
        switch slice.storage {
        case .integer(let v): return v.map { $0 != 0 }
        case .float(let v): return v.map { $0 != 0 }
        case .bool(let v): return v
        }
    }

    /// A digest of every input's and label's contents.
    public var fingerprint: String {
        var digest = Fingerprint()
        for name in inputs.keys.sorted() {
            let tensor = inputs[name]!
            digest.add(name)
            digest.add(tensor.shape)
            switch tensor.storage {
            case .float(let v): digest.add(v)
            case .integer(let v): v.withUnsafeBytes { digest.add($0) }
            case .bool(let v): digest.add(v.map { $0 ? 1 : 0 })
            }
        }
        if let labels { digest.add(labels) }
        return digest.hex
    }

    /// Rows `range` along the first axis of `tensor`.
    static func slice(_ tensor: Tensor, _ range: Range<Int>) -> Tensor {
        let per = tensor.shape.dropFirst().reduce(1, *)
        let shape = [range.count] + tensor.shape.dropFirst()
        let elements = (range.lowerBound * per)..<(range.upperBound * per)
        switch tensor.storage {
        case .float(let v): return Tensor(shape: shape, floats: Array(v[elements]))
        case .integer(let v): return Tensor(shape: shape, integers: Array(v[elements]), dataType: tensor.dataType)
        case .bool(let v): return Tensor(shape: shape, bools: Array(v[elements]))
        }
    }
}
