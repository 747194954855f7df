import Foundation
import SPDYTensor

/// A loss value and its gradient with respect to the tensor it was computed from (the seed a
/// `backward` call takes for that value).
public struct LossResult: Sendable {
    /// The loss (accumulated in Double).
    public var value: Double
    /// ∂loss/∂input, the input's shape.
    public var gradient: Tensor
}

/// Losses on float32 tensors, each returning its value and gradient w.r.t. its first argument.
public enum Loss {
    /// Mean cross-entropy of `logits` [N, C] (or [N, C, …], classes on axis 1) against integer
    /// class `labels` (N entries, or one per position), as `torch.nn.functional.cross_entropy`
    /// with mean reduction. Gradient: (softmax − onehot) / count.
    public static func crossEntropy(logits: Tensor, labels: [Int]) throws -> LossResult {
        guard logits.dataType == .float32, logits.rank >= 2 else {
            throw TrainingError.badFeed(name: "logits", reason: "expected float32 [N, C, …], got \(logits.dataType)\(logits.shape)")
        }
        let n = logits.shape[0], c = logits.shape[1], inner = logits.shape.dropFirst(2).reduce(1, *)
        guard labels.count == n * inner else {
            throw TrainingError.badFeed(name: "labels", reason: "\(labels.count) labels for logits \(logits.shape)")
        }
        let x = logits.floats
        var gradient = [Float](repeating: 0, count: x.count)
        var total = 0.0
        let count = Double(n * inner)
        for b in 0..<n {
            for i in 0..<inner {
                let label = labels[b * inner + i]
                guard label >= 0 && label < c else {
                    throw TrainingError.badFeed(name: "labels", reason: "label \(label) outside 0..<\(c)")
                }
                let index = { (k: Int) in (b * c + k) * inner + i }
                var m = -Double.infinity
                for k in 0..<c { m = max(m, Double(x[index(k)])) }
                var sum = 0.0
                for k in 0..<c { sum += Foundation.exp(Double(x[index(k)]) - m) }
                let logSum = m + Foundation.log(sum)
                total += logSum - Double(x[index(label)])
                for k in 0..<c {
                    let p = Foundation.exp(Double(x[index(k)]) - logSum)
                    gradient[index(k)] = Float((p - (k == label ? 1 : 0)) / count)
                }
            }
        }
        return LossResult(value: total / count, gradient: Tensor(shape: logits.shape, floats: gradient))
    }

    /// Mean squared error over all elements, mean((p − t)²); gradient 2(p − t)/count.
    public static func meanSquaredError(_ prediction: Tensor, target: Tensor) throws -> LossResult {
        try requireSameShape(prediction, target)
        let p = prediction.floats, t = target.floats
        let count = Double(max(p.count, 1))
        var total = 0.0
        var gradient = [Float](repeating: 0, count: p.count)
        for i in 0..<p.count {
            let d = Double(p[i]) - Double(t[i])
            total += d * d
            gradient[i] = Float(2 * d / count)
        }
        return LossResult(value: total / count, gradient: Tensor(shape: prediction.shape, floats: gradient))
    }

    /// gAP's normalised layer-output distance ‖a − b‖² / ‖b‖² of an output `a` from its target
    /// `b` (the dense model's output on its own input); gradient 2(a − b)/‖b‖². A zero target
    /// divides by 1 instead. With `rowMask` (one flag per row: the output seen as
    /// [rowMask.count × rest], e.g. the tokens of a [batch × sequence × features] output), rows
    /// whose flag is false (padding tokens) count in neither sum and get a zero gradient.
    public static func normalizedDistance(_ output: Tensor, target: Tensor, rowMask: [Bool]? = nil) throws -> LossResult {
        try requireSameShape(output, target)
        let a = output.floats, b = target.floats
        let width = rowMask.map { a.count / max($0.count, 1) } ?? a.count
        if let rowMask, rowMask.count * width != a.count {
            throw TrainingError.badFeed(name: "token mask", reason: "\(rowMask.count) rows do not divide an output of \(a.count) values")
        }
        let rows = rowMask?.count ?? 1
        var norm = 0.0, distance = 0.0
        for r in 0..<rows where rowMask?[r] ?? true {
            for i in (r * width)..<((r + 1) * width) {
                let d = Double(a[i]) - Double(b[i])
                distance += d * d
                norm += Double(b[i]) * Double(b[i])
            }
        }
        let scale = norm > 0 ? norm : 1
        var gradient = [Float](repeating: 0, count: a.count)
        for r in 0..<rows where rowMask?[r] ?? true {
            for i in (r * width)..<((r + 1) * width) { gradient[i] = Float(2 * (Double(a[i]) - Double(b[i])) / scale) }
        }
        return LossResult(value: distance / scale, gradient: Tensor(shape: output.shape, floats: gradient))
    }

    private static func requireSameShape(_ a: Tensor, _ b: Tensor) throws {
        guard a.dataType == .float32, b.dataType == .float32, a.shape == b.shape else {
            throw TrainingError.badFeed(name: "target", reason: "shapes \(a.dataType)\(a.shape) and \(b.dataType)\(b.shape) differ")
        }
    }
}
