import RealModule
import SPDYGraph
import SPDYKernels
import SPDYTensor

/// `BatchNormalization` over X [N, C, …] with per-channel scale γ, bias β, running mean and
/// variance.
///
/// Frozen statistics (inference, and training with `BatchNormMode.frozen`): y = (x − μ)·γ/σ + β
/// with the running μ, σ² = var + ε; dX = dY·γ/σ, dγ = Σ dY·x̂, dβ = Σ dY.
/// Batch statistics (training with `.batchStatistics`): μ and the biased σ² of the batch
/// normalise; dX = γ/(σ·M)·(M·dY − Σ dY − x̂·Σ dY·x̂) over the M = N·spatial elements of a
/// channel; the running statistics move by `momentum` (ONNX convention: weight of the old value)
/// toward the batch mean and the unbiased batch variance, as PyTorch does.
struct BatchNormalizationKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let shape: [Int]
    let epsilon: S
    let momentum: S
    /// Whether training passes normalise with batch statistics.
    let batchStatistics: Bool

    var channels: Int { shape[1] }
    var batch: Int { shape[0] }
    var plane: Int { shape.dropFirst(2).reduce(1, *) }

    func differentiable(input index: Int) -> Bool { index <= 2 }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        if training && batchStatistics { return SavedValues(inputs: [0]) }
        return needsGradient.count > 1 && needsGradient[1] ? SavedValues(inputs: [0]) : SavedValues()
    }

    /// Calls `body(c, n, plane pointer)` for every plane of channel `c`.
    @inline(__always)
    private func forEachPlane(of c: Int, _ base: UnsafePointer<S>, _ body: (UnsafePointer<S>) -> Void) {
        for n in 0..<batch { body(base + (n * channels + c) * plane) }
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0), gamma = arguments.dense(1), beta = arguments.dense(2)
        let useBatch = arguments.training && batchStatistics
        var mean = arguments.dense(3).data, variance = arguments.dense(4).data
        let count = batch * plane
        if useBatch {
            // Batch mean and biased variance per channel (two passes, in S).
            x.data.withUnsafeBufferPointer { xb in
                let xp = xb.baseAddress!
                mean.withUnsafeMutableBufferPointer { mb in
                    variance.withUnsafeMutableBufferPointer { vb in
                        let mp = mb.baseAddress!, vp = vb.baseAddress!
                        arguments.pool.parallelFor(channels, grain: 1) { range in
                            for c in range {
                                var sum: S = 0
                                forEachPlane(of: c, xp) { p in for i in 0..<plane { sum = Relaxed.sum(sum, p[i]) } }
                                let mu = count > 0 ? sum / S(count) : 0
                                var squares: S = 0
                                forEachPlane(of: c, xp) { p in for i in 0..<plane { let d = p[i] - mu; squares = Relaxed.multiplyAdd(d, d, squares) } }
                                mp[c] = mu
                                vp[c] = count > 0 ? squares / S(count) : 0
                            }
                        }
                    }
                }
            }
        }
        let invStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let y = Dense<S>(shape: shape) { y in
            x.data.withUnsafeBufferPointer { xb in
                let xp = xb.baseAddress!
                arguments.pool.parallelFor(batch * channels, grain: max(1, 4096 / max(plane, 1))) { range in
                    for p in range {
                        let c = p % channels
                        let scale = gamma.data[c] * invStd[c], shift = beta.data[c] - mean[c] * scale
                        let src = xp + p * plane, dst = y + p * plane
                        for i in 0..<plane { dst[i] = src[i] * scale + shift }
                    }
                }
            }
        }
        var result = KernelOutputs(y)
        if useBatch {
            result.auxiliary = Auxiliary(values: mean + invStd)
            let old = (arguments.dense(3).data, arguments.dense(4).data)
            let unbiased = count > 1 ? S(count) / S(count - 1) : 1
            let newMean = (0..<channels).map { momentum * old.0[$0] + (1 - momentum) * mean[$0] }
            let newVar = (0..<channels).map { momentum * old.1[$0] + (1 - momentum) * variance[$0] * unbiased }
            result.stateUpdates = [(3, Dense(shape: [channels], data: newMean)), (4, Dense(shape: [channels], data: newVar))]
        }
        return result
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil, nil, nil, nil, nil] }
        let gamma = arguments.input(1).data
        let useBatch = arguments.training && batchStatistics
        let mean: [S], invStd: [S]
        if useBatch, let aux = arguments.auxiliary {
            mean = Array(aux.values[..<channels])
            invStd = Array(aux.values[channels...])
        } else {
            mean = arguments.input(3).data
            invStd = arguments.input(4).data.map { 1 / ($0 + epsilon).squareRoot() }
        }
        let needX = useBatch || arguments.wants(1)
        let x = needX ? arguments.input(0) : nil
        // Per channel: Σ dY and Σ dY·x̂.
        var sumDy = [S](repeating: 0, count: channels), sumDyXhat = sumDy
        dy.data.withUnsafeBufferPointer { gb in
            let gp = gb.baseAddress!
            withOptionalConstPointer(x) { xp in
                sumDy.withUnsafeMutableBufferPointer { sb in
                    sumDyXhat.withUnsafeMutableBufferPointer { tb in
                        let sp = sb.baseAddress!, tp = tb.baseAddress!
                        arguments.pool.parallelFor(channels, grain: 1) { range in
                            for c in range {
                                var s: S = 0, t: S = 0
                                let mu = mean[c]
                                for n in 0..<batch {
                                    let off = (n * channels + c) * plane
                                    let g = gp + off
                                    if let xp {
                                        let xs = xp + off
                                        for i in 0..<plane { s = Relaxed.sum(s, g[i]); t = Relaxed.multiplyAdd(g[i], xs[i] - mu, t) }
                                    } else {
                                        for i in 0..<plane { s = Relaxed.sum(s, g[i]) }
                                    }
                                }
                                sp[c] = s
                                tp[c] = t * invStd[c]
                            }
                        }
                    }
                }
            }
        }
        var dx: Dense<S>? = nil
        if arguments.wants(0) {
            let m = S(batch * plane)
            dx = Dense(shape: shape) { out in
                dy.data.withUnsafeBufferPointer { gb in
                    withOptionalConstPointer(x) { xp in
                        let gp = gb.baseAddress!
                        arguments.pool.parallelFor(batch * channels, grain: max(1, 4096 / max(plane, 1))) { range in
                            for p in range {
                                let c = p % channels
                                let g = gp + p * plane, o = out + p * plane
                                let k = gamma[c] * invStd[c]
                                if useBatch, let xp {
                                    let xs = xp + p * plane
                                    let a = sumDy[c] / m, b = sumDyXhat[c] / m, mu = mean[c], inv = invStd[c]
                                    for i in 0..<plane { o[i] = k * (g[i] - a - (xs[i] - mu) * inv * b) }
                                } else {
                                    for i in 0..<plane { o[i] = k * g[i] }
                                }
                            }
                        }
                    }
                }
            }
        }
        let dGamma = arguments.wants(1) ? Dense(shape: [channels], data: sumDyXhat) : nil
        let dBeta = arguments.wants(2) ? Dense(shape: [channels], data: sumDy) : nil
        return [dx, dGamma, dBeta, nil, nil]
    }

    /// The kernel for a `BatchNormalization` node.
    static func kernel(_ spec: KernelSpec, batchStatistics: Bool, momentum: Float?) throws -> AnyKernel<S> {
        let node = spec.node
        if node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw spec.unsupported("the running statistics outputs are not supported (the executor updates them itself)")
        }
        let x = spec.inputType(0).shape
        guard x.count >= 2 else { throw spec.unsupported("X must have rank ≥ 2, got \(x)") }
        return AnyKernel(BatchNormalizationKernel(shape: x, epsilon: S(try node.float("epsilon", default: 1e-5)),
                                                  momentum: S(try momentum ?? node.float("momentum", default: 0.9)),
                                                  batchStatistics: batchStatistics))
    }
}
