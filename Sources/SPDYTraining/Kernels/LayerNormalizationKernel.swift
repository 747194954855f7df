import RealModule
import SPDYGraph
import SPDYKernels
import SPDYTensor

/// `LayerNormalization` (opset 17): each row (the axes from `axis` on) normalised to zero mean
/// and unit variance, then y = x̂·scale + bias with scale and bias covering the normalised axes.
///
/// With g = dY·scale: dX = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)); dScale = Σ_rows dY·x̂;
/// dBias = Σ_rows dY. The input is saved and x̂ recomputed from per-row mean and 1/σ.
struct LayerNormalizationKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let shape: [Int]
    let rows: Int, width: Int
    let epsilon: S
    let hasBias: Bool

    func differentiable(input index: Int) -> Bool { index <= 2 }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        needsGradient.prefix(2).contains(true) ? SavedValues(inputs: [0]) : SavedValues()
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0), scale = arguments.dense(1).data
        let bias = hasBias ? arguments.dense(2).data : [S](repeating: 0, count: width)
        var stats = [S](repeating: 0, count: 2 * rows)
        let w = width, r = rows
        let y = Dense<S>(shape: shape) { y in
            x.data.withUnsafeBufferPointer { xb in
                stats.withUnsafeMutableBufferPointer { sb in
                    let xp = xb.baseAddress!, sp = sb.baseAddress!
                    arguments.pool.parallelFor(r, grain: max(1, 2048 / max(w, 1))) { range in
                        for row in range {
                            let src = xp + row * w, dst = y + row * w
                            var sum: S = 0
                            for i in 0..<w { sum = Relaxed.sum(sum, src[i]) }
                            let mean = sum / S(w)
                            var squares: S = 0
                            for i in 0..<w { let d = src[i] - mean; squares = Relaxed.multiplyAdd(d, d, squares) }
                            let inv = 1 / (squares / S(w) + epsilon).squareRoot()
                            sp[row] = mean
                            sp[r + row] = inv
                            for i in 0..<w { dst[i] = (src[i] - mean) * inv * scale[i] + bias[i] }
                        }
                    }
                }
            }
        }
        return KernelOutputs([.dense(y)], auxiliary: Auxiliary(values: stats))
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil, let stats = arguments.auxiliary?.values else { return [nil, nil, nil] }
        let x = arguments.input(0), scale = arguments.input(1).data
        let w = width, r = rows
        let wantX = arguments.wants(0), wantAffine = arguments.wants(1) || (hasBias && arguments.wants(2))
        var dx: Dense<S>? = wantX ? Dense(zeros: shape) : nil
        let threads = arguments.pool.threads
        // Per-thread partial sums of dY·x̂ and dY over rows, combined afterwards.
        var partial = [S](repeating: 0, count: wantAffine ? 2 * w * threads : 0)
        dy.data.withUnsafeBufferPointer { gb in
            x.data.withUnsafeBufferPointer { xb in
                partial.withUnsafeMutableBufferPointer { pb in
                    withOptionalPointer(&dx) { dxp in
                        let gp = gb.baseAddress!, xp = xb.baseAddress!, pp = wantAffine ? pb.baseAddress : nil
                        arguments.pool.parallelChunks(r) { chunk, range in
                            let dScale = pp.map { $0 + chunk * 2 * w }, dBias = dScale.map { $0 + w }
                            for row in range {
                                let g = gp + row * w, xs = xp + row * w
                                let mean = stats[row], inv = stats[r + row]
                                if let dScale, let dBias {
                                    for i in 0..<w {
                                        dScale[i] += g[i] * (xs[i] - mean) * inv
                                        dBias[i] += g[i]
                                    }
                                }
                                if let dxp {
                                    var sumG: S = 0, sumGX: S = 0
                                    for i in 0..<w {
                                        let gi = g[i] * scale[i]
                                        sumG = Relaxed.sum(sumG, gi)
                                        sumGX = Relaxed.multiplyAdd(gi, (xs[i] - mean) * inv, sumGX)
                                    }
                                    let a = sumG / S(w), b = sumGX / S(w)
                                    let o = dxp + row * w
                                    for i in 0..<w { o[i] = inv * (g[i] * scale[i] - a - (xs[i] - mean) * inv * b) }
                                }
                            }
                        }
                    }
                }
            }
        }
        var dScale: Dense<S>? = nil, dBias: Dense<S>? = nil
        if wantAffine {
            var s = [S](repeating: 0, count: w), b = s
            for t in 0..<threads {
                for i in 0..<w {
                    s[i] += partial[t * 2 * w + i]
                    b[i] += partial[t * 2 * w + w + i]
                }
            }
            if arguments.wants(1) { dScale = Dense(shape: arguments.input(1).shape, data: s) }
            if hasBias && arguments.wants(2) { dBias = Dense(shape: arguments.input(2).shape, data: b) }
        }
        return [dx, dScale, dBias]
    }

    /// The kernel for a `LayerNormalization` node.
    static func kernel(_ spec: KernelSpec) throws -> AnyKernel<S> {
        let node = spec.node
        if node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw spec.unsupported("the Mean and InvStdDev outputs are not supported in training")
        }
        let x = spec.inputType(0).shape
        var axis = try node.int("axis", default: -1)
        if axis < 0 { axis += x.count }
        guard axis >= 0 && axis < x.count else { throw spec.unsupported("axis out of range for \(x)") }
        let width = x[axis...].reduce(1, *)
        for index in [1, 2] where spec.hasInput(index) {
            let t = spec.inputType(index).shape
            guard t.reduce(1, *) == width, Broadcast.shape([t, Array(x[axis...])]) == Array(x[axis...]) else {
                throw spec.unsupported("scale and bias must cover exactly the normalised axes \(Array(x[axis...])), got \(t)")
            }
        }
        return AnyKernel(LayerNormalizationKernel(shape: x, rows: x[..<axis].reduce(1, *), width: width,
                                                  epsilon: S(try node.float("epsilon", default: 1e-5)), hasBias: spec.hasInput(2)))
    }
}
