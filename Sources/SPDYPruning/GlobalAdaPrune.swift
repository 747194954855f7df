import Foundation
import SPDYGraph
import SPDYTensor
import SPDYTraining

/// Global AdaPrune's settings (SPDY paper: Adam at 1e-5, 100 epochs, batch 32).
public struct GlobalAdaPruneSettings: Sendable, Codable, Equatable {
    /// Passes over the calibration set.
    public var epochs: Int
    /// Samples per step (the last batch of an epoch may be smaller).
    public var batchSize: Int
    /// Adam's (constant) learning rate.
    public var learningRate: Double
    /// Seed of the batch order.
    public var seed: UInt64
    /// Threads of the training executor.
    public var threads: Int

    public init(epochs: Int = 100, batchSize: Int = 32, learningRate: Double = 1e-5, seed: UInt64 = 0, threads: Int = 1) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.threads = threads
    }
}

/// What one epoch of gAP did.
public struct GlobalAdaPruneProgress: Sendable {
    /// Epochs completed (1-based), of `epochs`.
    public var epoch: Int, epochs: Int
    /// The loss (Σ over layers of ‖s − t‖²/‖t‖²), averaged over the epoch's batches.
    public var loss: Double
    /// Seconds the epoch took.
    public var seconds: Double
    /// Whether the run resumed from a saved state before this epoch.
    public var resumed: Bool
}

/// Global AdaPrune (gAP): after a profile is stitched, fine-tune all weights, biases and
/// normalisation parameters of the sparse model so that every prunable layer's output matches
/// the dense model's, each model running on its own input (the sparse model on its own
/// activations): loss = Σ over layers ‖out_sparse − out_dense‖² / ‖out_dense‖². BatchNorm
/// statistics stay frozen; the pruned weights are masked and stay exactly zero.
///
/// The run saves its state (parameters, Adam, batch order, completed epochs) after every epoch
/// when given a state file, and resumes from it when run again with the same inputs.
public enum GlobalAdaPrune {
    /// Roles gAP trains: everything but embeddings (which the paper's CNNs do not have and
    /// which no layer output constrains directly).
    public static let trainedRoles: Set<ParameterRole> = [.weight, .bias, .normalization, .affine]

    /// Fine-tunes `sparse` (the dense model's graph with pruned weights zeroed) against `dense`
    /// on `calibration`; `layers` are the prunable layers (their outputs carry the loss, their
    /// zero weights are masked). `progress` is called after every epoch (after the state is
    /// saved; throwing from it stops the run, which a later call resumes). Returns the
    /// fine-tuned graph.
    public static func run(dense: Graph, sparse: Graph, layers: [PrunableLayer], calibration: CalibrationSet,
                           settings: GlobalAdaPruneSettings, stateFile: URL? = nil,
                           progress: (GlobalAdaPruneProgress) throws -> Void = { _ in }) throws -> Graph {
        guard settings.epochs >= 0, settings.batchSize >= 1, settings.learningRate > 0 else {
            throw PruningError.globalAdaPrune(file: calibration.directory, reason: "needs epochs ≥ 0, a batch of at least 1 and a positive learning rate")
        }
        let outputs = layers.map(\.output)
        let teacher = try TrainingExecutor(graph: truncated(dense, to: outputs), options: TrainingOptions(threads: settings.threads))
        let student = try TrainingExecutor(graph: truncated(sparse, to: outputs), options: TrainingOptions(
            threads: settings.threads, batchNorm: .frozen, selection: ParameterSelection(roles: trainedRoles)))
        for layer in layers {
            guard let w = student.parameters.value(layer.id) else { continue }
            let values = w.floats
            if values.contains(0) { try student.parameters.setMask(layer.id, Tensor(shape: w.shape, bools: values.map { $0 != 0 })) }
        }
        let adam = Adam(schedule: .constant(settings.learningRate))
        var sampler = BatchSampler(count: calibration.sampleCount, batchSize: settings.batchSize, shuffle: true, seed: settings.seed)
        let identity = fingerprint(sparse: sparse, layers: layers, calibration: calibration, settings: settings)
        var completed = 0
        var resumed = false
        if let stateFile, FileManager.default.fileExists(atPath: stateFile.path) {
            let saved = try TrainingCheckpoint.read(from: stateFile, into: student.parameters, optimizer: adam)
            guard saved.metadata["gap.identity"] == identity, let epochs = saved.metadata["gap.epochs"].flatMap(Int.init),
                  let restored = saved.sampler else {
                throw PruningError.globalAdaPrune(file: stateFile.path, reason: "the saved state belongs to another model, calibration set or settings: delete it to start over")
            }
            completed = epochs
            sampler = restored
            resumed = true
        }
        while completed < settings.epochs {
            let start = Date()
            var total = 0.0
            let batches = sampler.batchesPerEpoch
            for _ in 0..<batches {
                guard let indices = sampler.next() else { break }
                total += try step(teacher: teacher, student: student, optimizer: adam, outputs: outputs,
                                  feeds: calibration.batch(indices))
            }
            completed += 1
            if let stateFile {
                try TrainingCheckpoint.write(to: stateFile, parameters: student.parameters, optimizer: adam, sampler: sampler,
                                             metadata: ["gap.identity": identity, "gap.epochs": String(completed)])
            }
            try progress(GlobalAdaPruneProgress(epoch: completed, epochs: settings.epochs, loss: total / Double(max(batches, 1)),
                                            seconds: Date().timeIntervalSince(start), resumed: resumed))
            resumed = false
        }
        var tuned = sparse
        for (name, tensor) in student.trainedGraph().initializers where tuned.initializers[name] != nil {
            tuned.initializers[name] = tensor
        }
        return tuned
    }

    /// `graph` cut after the values gAP's loss reads (`outputs` become its outputs, nodes that
    /// do not lead to them are dropped; initializers and inputs are kept). Nothing after the
    /// last prunable layer receives a gradient, so a head without a backward rule (MiniLM's L2
    /// normalisation of the embedding: Max, Div) does not stop training.
    static func truncated(_ graph: Graph, to outputs: [String]) -> Graph {
        var needed = Set(outputs)
        var kept: [Node] = []
        for node in graph.nodes.reversed() where node.outputs.contains(where: needed.contains) {
            kept.append(node)
            for input in node.inputs where !input.isEmpty { needed.insert(input) }
        }
        var result = graph
        result.nodes = kept.reversed()
        result.outputs = outputs.map { ValueInfo(name: $0, dataType: .float32, shape: nil) }
        return result
    }

    /// gAP's loss of `sparse` against `dense` on `feeds` (no update): Σ over `layers`.
    public static func loss(dense: Graph, sparse: Graph, layers: [PrunableLayer], feeds: [String: Tensor], threads: Int = 1) throws -> Double {
        let outputs = Set(layers.map(\.output))
        let t = try TrainingExecutor(graph: truncated(dense, to: layers.map(\.output)), options: TrainingOptions(threads: threads))
            .forward(feeds, retaining: outputs, differentiable: false)
        let s = try TrainingExecutor(graph: truncated(sparse, to: layers.map(\.output)), options: TrainingOptions(threads: threads))
            .forward(feeds, retaining: outputs, differentiable: false)
        return try layers.reduce(0) { $0 + (try Loss.normalizedDistance(s.value($1.output)!, target: t.value($1.output)!).value) }
    }

    /// One Adam step on one batch; returns the batch's loss.
    static func step(teacher: TrainingExecutor, student: TrainingExecutor, optimizer: Optimizer, outputs: [String],
                     feeds: [String: Tensor]) throws -> Double {
        let targets = try teacher.forward(feeds, retaining: Set(outputs), differentiable: false)
        let pass = try student.forward(feeds, retaining: Set(outputs))
        var seeds: [String: Tensor] = [:]
        var loss = 0.0
        for name in outputs {
            let l = try Loss.normalizedDistance(pass.value(name)!, target: targets.value(name)!)
            loss += l.value
            seeds[name] = l.gradient
        }
        student.parameters.zeroGradients()
        try student.backward(pass, seeds: seeds)
        optimizer.step(student.parameters)
        return loss
    }

    /// Identifies what a saved state belongs to: the sparse weights, the calibration set and the settings.
    static func fingerprint(sparse: Graph, layers: [PrunableLayer], calibration: CalibrationSet, settings: GlobalAdaPruneSettings) -> String {
        var digest = Fingerprint()
        for layer in layers {
            digest.add(layer.id)
            if let w = sparse.initializers[layer.id], w.dataType == .float32 { digest.add(w.floats) }
        }
        digest.add(calibration.fingerprint)
        digest.add("\(settings.epochs) \(settings.batchSize) \(settings.learningRate) \(settings.seed)")
        return digest.hex
    }
}

extension CalibrationSet {
    /// The samples at `indices` (any order, repeats allowed) as one batch of every input.
    public func batch(_ indices: [Int]) -> [String: Tensor] {
        inputs.mapValues { tensor in
            let row = tensor.shape.dropFirst().reduce(1, *)
            let shape = [indices.count] + tensor.shape.dropFirst()
            switch tensor.storage {
            case .float(let v): return Tensor(shape: shape, floats: indices.flatMap { v[($0 * row)..<(($0 + 1) * row)] })
            case .integer(let v): return Tensor(shape: shape, integers: indices.flatMap { v[($0 * row)..<(($0 + 1) * row)] }, dataType: tensor.dataType)
            case .bool(let v): return Tensor(shape: shape, bools: indices.flatMap { v[($0 * row)..<(($0 + 1) * row)] })
            }
        }
    }
}
