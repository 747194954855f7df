import Foundation
import SPDYCore
import SPDYEngine
import SPDYGraph

/// How a pruned model's outputs are scored on the calibration set (lower is better).
public enum LossKind: String, Sendable, CaseIterable, Codable {
    /// Mean cross-entropy of the logits against the labels.
    case crossEntropy = "ce"
    /// Mean KL divergence from the dense model's softmax to the pruned model's (no labels).
    case klDivergence = "kl"
    /// `Σ ‖y − y_dense‖² / Σ ‖y_dense‖²` over the outputs (embeddings, no labels).
    case normalisedMSE = "mse"

    /// The default for a model and set: cross-entropy with labels; otherwise normalised MSE for
    /// outputs named like embeddings, KL for other two-dimensional outputs, MSE for the rest.
    public static func automatic(graph: Graph, labelled: Bool, output name: String? = nil) -> LossKind {
        if labelled { return .crossEntropy }
        let scored = name ?? ModelEvaluator.scoredOutput(of: graph)
        let output = graph.outputs.first { $0.name == scored }
        let name = output?.name.lowercased() ?? ""
        if name.contains("embed") || name.contains("pool") || name.contains("hidden") { return .normalisedMSE }
        return output?.shape?.count == 2 ? .klDivergence : .normalisedMSE
    }
}

/// What an evaluation of one model on a set gives.
public struct Evaluation: Sendable, Codable, Equatable {
    /// The loss (``LossKind``).
    public var loss: Double
    /// Top-1 accuracy against the labels, or agreement with the dense model's top-1 without
    /// labels (classification outputs only).
    public var accuracy: Double?
    /// Mean cosine similarity of each sample's output to the dense model's (embeddings).
    public var cosine: Double?
}

/// The calibration loss of profiles as a ``LossOracle``: stitches the model from the database,
/// compiles it (pruned layers on the sparse kernels) and scores its outputs on the calibration
/// set against the labels or the dense model's outputs.
public final class CalibrationLoss: LossOracle, @unchecked Sendable {
    /// The dense model.
    public let graph: Graph
    /// The database profiles are stitched from.
    public let database: ReconstructionDatabase
    /// The scored samples.
    public let calibration: CalibrationSet
    /// The loss.
    public let kind: LossKind
    /// The evaluator.
    public let evaluator: ModelEvaluator
    /// The dense model's outputs on the set.
    public let denseOutputs: (values: [Float], width: Int)
    /// Reuse of the passes of earlier candidates (nil: every candidate is a full pass).
    public let reuse: PrefixReuse?

    /// Prepares the oracle (runs the dense model once).
    public init(graph: Graph, database: ReconstructionDatabase, calibration: CalibrationSet, kind: LossKind,
                evaluator: ModelEvaluator, reusePasses: Bool = true) throws {
        if kind == .crossEntropy, calibration.labels == nil {
            throw PruningError.calibration(file: calibration.directory, reason: "cross-entropy needs labels.npy")
        }
        self.graph = graph
        self.database = database
        self.calibration = calibration
        self.kind = kind
        self.evaluator = evaluator
        denseOutputs = try evaluator.outputs(of: graph, on: calibration)
        reuse = reusePasses ? try PrefixReuse(graph: graph, layers: database.manifest.layers, calibration: calibration,
                                              evaluator: evaluator) : nil
        if kind == .crossEntropy, let labels = calibration.labels, let bad = labels.first(where: { $0 < 0 || $0 >= denseOutputs.width }) {
            throw PruningError.calibration(file: calibration.directory, reason: "label \(bad) is outside the model's \(denseOutputs.width) classes")
        }
    }

    /// The loss of the model pruned to `profile`.
    public func loss(of profile: Profile) throws -> Double {
        let pruned = try Stitcher.stitch(graph, profile: profile, database: database)
        guard let reuse else { return try evaluate(pruned).loss }
        var levels: [String: Int] = [:]
        for entry in profile.layers { levels[entry.layer.name] = entry.level.index }
        let outputs = try reuse.outputs(of: pruned, levels: reuse.layers.map { levels[$0] ?? 0 })
        return Self.score(outputs.values, width: outputs.width, dense: denseOutputs.values, labels: calibration.labels, kind: kind).loss
    }

    /// Loss and accuracy of any model with the dense model's interface on the calibration set.
    public func evaluate(_ model: Graph) throws -> Evaluation {
        let outputs = try evaluator.outputs(of: model, on: calibration)
        return Self.score(outputs.values, width: outputs.width, dense: denseOutputs.values, labels: calibration.labels, kind: kind)
    }

    /// Scores outputs (`samples × width`) against labels or dense outputs.
    public static func score(_ values: [Float], width: Int, dense: [Float], labels: [Int]?, kind: LossKind) -> Evaluation {
        precondition(values.count == dense.count && width > 0, "outputs and dense outputs differ in size")
        let samples = values.count / width
        var loss = 0.0
        switch kind {
        case .crossEntropy:
            for s in 0..<samples {
                let row = values[(s * width)..<((s + 1) * width)].map(Double.init)
                loss += logSumExp(row) - row[labels![s]]
            }
            loss /= Double(samples)
        case .klDivergence:
            for s in 0..<samples {
                let p = dense[(s * width)..<((s + 1) * width)].map(Double.init)
                let q = values[(s * width)..<((s + 1) * width)].map(Double.init)
                let lp = logSumExp(p), lq = logSumExp(q)
                for i in 0..<width {
                    let logP = p[i] - lp
                    loss += Foundation.exp(logP) * (logP - (q[i] - lq))
                }
            }
            loss /= Double(samples)
        case .normalisedMSE:
            var error = 0.0, norm = 0.0
            for i in 0..<values.count {
                let e = Double(values[i]) - Double(dense[i])
                error += e * e
                norm += Double(dense[i]) * Double(dense[i])
            }
            loss = norm > 0 ? error / norm : error
        }
        var accuracy: Double? = nil
        if width > 1, kind != .normalisedMSE || labels != nil {
            var correct = 0
            for s in 0..<samples {
                let predicted = argmax(values, s * width, width)
                let expected = labels?[s] ?? argmax(dense, s * width, width)
                if predicted == expected { correct += 1 }
            }
            accuracy = Double(correct) / Double(samples)
        }
        var cosine: Double? = nil
        if kind == .normalisedMSE {
            var total = 0.0
            for s in 0..<samples {
                var dot = 0.0, a = 0.0, b = 0.0
                for i in (s * width)..<((s + 1) * width) {
                    dot += Double(values[i]) * Double(dense[i])
                    a += Double(values[i]) * Double(values[i])
                    b += Double(dense[i]) * Double(dense[i])
                }
                total += a > 0 && b > 0 ? dot / (a * b).squareRoot() : (a == b ? 1 : 0)
            }
            cosine = total / Double(samples)
        }
        return Evaluation(loss: loss, accuracy: accuracy, cosine: cosine)
    }

    private static func logSumExp(_ x: [Double]) -> Double {
        let m = x.max() ?? 0
        return m + Foundation.log(x.reduce(0) { $0 + Foundation.exp($1 - m) })
    }

    private static func argmax(_ v: [Float], _ start: Int, _ count: Int) -> Int {
        var best = 0
        for i in 1..<count where v[start + i] > v[start + best] { best = i }
        return best
    }
}
