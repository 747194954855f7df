import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SPDYTensor

/// A resumable training state in one safetensors file (format in docs/training.md):
/// parameter values (including BatchNorm statistics) as `parameter/NAME`, masks as `mask/NAME`,
/// optimiser buffers as `optimizer/BUFFER/NAME`; metadata `format` = `spdy-training-checkpoint`,
/// `version` = 1, the optimiser's kind, step count, settings and schedule, the sampler (JSON),
/// and the caller's own entries under `user.`.
public struct TrainingCheckpoint {
    /// The file format's name and version.
    public static let format = "spdy-training-checkpoint"
    public static let version = 1

    /// The sampler position, if one was saved.
    public var sampler: BatchSampler?
    /// The caller's metadata.
    public var metadata: [String: String]

    /// Writes the state to `url` (atomically: a temporary file renamed into place).
    public static func write(to url: URL, parameters: TrainingParameters, optimizer: Optimizer, sampler: BatchSampler?,
                             metadata: [String: String] = [:]) throws {
        var tensors: [(name: String, tensor: Tensor)] = []
        for e in parameters.store.entries {
            tensors.append(("parameter/\(e.name)", e.value.tensor))
            if let m = e.mask { tensors.append(("mask/\(e.name)", Tensor(shape: e.value.shape, floats: m))) }
        }
        let state = optimizer.exportState()
        for (key, t) in state.buffers.sorted(by: { $0.key < $1.key }) { tensors.append(("optimizer/\(key)", t)) }
        var meta: [String: String] = [
            "format": format, "version": String(version),
            "optimizer.kind": state.kind, "optimizer.step": String(state.stepCount),
            "optimizer.settings": state.settings, "optimizer.schedule": SettingsCoding.encode(state.schedule),
        ]
        if let sampler { meta["sampler"] = SettingsCoding.encode(sampler) }
        for (k, v) in metadata { meta["user.\(k)"] = v }
        let bytes = SafeTensors.encode(tensors, metadata: meta)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        try Data(bytes).write(to: temporary)
        // rename(2) replaces the old file in one step (there is never a moment without one).
        guard rename(temporary.path, url.path) == 0 else {
            throw TrainingError.badState(path: url.path, reason: "cannot move the new checkpoint into place (errno \(errno))")
        }
    }

    /// Reads `url` into `parameters` and `optimizer` (which must be of the saved kind) and
    /// returns the sampler and metadata. Every parameter of the model must be in the file with
    /// its element count.
    public static func read(from url: URL, into parameters: TrainingParameters, optimizer: Optimizer) throws -> TrainingCheckpoint {
        let (tensors, meta) = try SafeTensors.readWithMetadata(contentsOf: url)
        guard meta["format"] == format else { throw TrainingError.badState(path: url.path, reason: "not a training checkpoint") }
        guard meta["version"] == String(version) else {
            throw TrainingError.badState(path: url.path, reason: "checkpoint version \(meta["version"] ?? "?"), expected \(version)")
        }
        let store = parameters.store
        for i in 0..<store.count {
            let name = store[i].name
            guard let t = tensors["parameter/\(name)"], t.dataType == .float32, t.count == store[i].value.count else {
                throw TrainingError.badState(path: url.path, reason: "parameter \(name) missing or of the wrong size")
            }
            let mask = tensors["mask/\(name)"]
            if let mask, mask.count != t.count { throw TrainingError.badState(path: url.path, reason: "mask of \(name) has the wrong size") }
            store.setMask(i, mask?.floats)
            store.setValue(i, Dense(t))
        }
        var buffers: [String: Tensor] = [:]
        for (key, t) in tensors where key.hasPrefix("optimizer/") { buffers[String(key.dropFirst("optimizer/".count))] = t }
        guard let kind = meta["optimizer.kind"], let step = meta["optimizer.step"].flatMap(Int.init),
              let settings = meta["optimizer.settings"], let scheduleText = meta["optimizer.schedule"] else {
            throw TrainingError.badState(path: url.path, reason: "optimiser metadata missing")
        }
        let schedule = try SettingsCoding.decode(LearningRateSchedule.self, scheduleText)
        try optimizer.importState(OptimizerState(kind: kind, stepCount: step, settings: settings, schedule: schedule, buffers: buffers))
        let sampler = try meta["sampler"].map { try SettingsCoding.decode(BatchSampler.self, $0) }
        var user: [String: String] = [:]
        for (k, v) in meta where k.hasPrefix("user.") { user[String(k.dropFirst(5))] = v }
        return TrainingCheckpoint(sampler: sampler, metadata: user)
    }
}
