import RealModule
import SPDYGraph
import SPDYKernels
import SPDYTensor

/// `Softmax` and `LogSoftmax` along one axis (opset ≥ 13) or over the flattened trailing axes
/// (opset < 13). The output is saved: dX = y·(dY − Σ dY·y) for Softmax and
/// dX = dY − e^y·Σ dY for LogSoftmax.
struct SoftmaxKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let shape: [Int]
    /// Elements are at (o·n + a)·inner + i for o < outer, a < n (the normalised axis), i < inner.
    let outer: Int, n: Int, inner: Int
    let logarithmic: Bool

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        needsGradient.first == true ? SavedValues(outputs: [0]) : SavedValues()
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0)
        let (n, inner, log) = (self.n, self.inner, logarithmic)
        let y = Dense<S>(shape: shape) { y in
            x.data.withUnsafeBufferPointer { xb in
                let xp = xb.baseAddress!
                let lines = outer * inner
                arguments.pool.parallelFor(lines, grain: max(1, 1024 / max(n, 1))) { range in
                    var row = [S](repeating: 0, count: n)
                    row.withUnsafeMutableBufferPointer { rb in
                        let r = rb.baseAddress!
                        for line in range {
                            let o = line / inner, i = line % inner
                            let base = o * n * inner + i
                            var m = -S.infinity
                            for a in 0..<n { r[a] = xp[base + a * inner]; m = max(m, r[a]) }
                            for a in 0..<n { r[a] -= m }
                            if log {
                                var sum: S = 0
                                let shifted = [S](UnsafeBufferPointer(start: r, count: n))
                                S.exp(r, r, count: n)
                                for a in 0..<n { sum = Relaxed.sum(sum, r[a]) }
                                let l = S.log(sum)
                                for a in 0..<n { y[base + a * inner] = shifted[a] - l }
                            } else {
                                S.exp(r, r, count: n)
                                var sum: S = 0
                                for a in 0..<n { sum = Relaxed.sum(sum, r[a]) }
                                let s = 1 / sum
                                for a in 0..<n { y[base + a * inner] = r[a] * s }
                            }
                        }
                    }
                }
            }
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil] }
        let y = arguments.output(0)
        let (n, inner, log) = (self.n, self.inner, logarithmic)
        let dx = Dense<S>(shape: shape) { dx in
            y.data.withUnsafeBufferPointer { yb in
                dy.data.withUnsafeBufferPointer { gb in
                    let yp = yb.baseAddress!, gp = gb.baseAddress!
                    arguments.pool.parallelFor(outer * inner, grain: max(1, 1024 / max(n, 1))) { range in
                        for line in range {
                            let o = line / inner, i = line % inner
                            let base = o * n * inner + i
                            if log {
                                var sum: S = 0
                                for a in 0..<n { sum = Relaxed.sum(sum, gp[base + a * inner]) }
                                for a in 0..<n {
                                    let k = base + a * inner
                                    dx[k] = gp[k] - S.exp(yp[k]) * sum
                                }
                            } else {
                                var dot: S = 0
                                for a in 0..<n { let k = base + a * inner; dot = Relaxed.multiplyAdd(gp[k], yp[k], dot) }
                                for a in 0..<n {
                                    let k = base + a * inner
                                    dx[k] = yp[k] * (gp[k] - dot)
                                }
                            }
                        }
                    }
                }
            }
        }
        return [dx]
    }

    /// The kernel for a `Softmax` or `LogSoftmax` node.
    static func kernel(_ spec: KernelSpec) throws -> AnyKernel<S> {
        let x = spec.inputType(0).shape
        let rank = x.count
        var axis = try spec.node.int("axis", default: spec.opset < 13 ? 1 : -1)
        if axis < 0 { axis += rank }
        guard axis >= 0 && axis < max(rank, 1) else { throw spec.unsupported("axis out of range for \(x)") }
        let logarithmic = spec.node.opType == "LogSoftmax"
        if spec.opset < 13 {
            return AnyKernel(SoftmaxKernel(shape: x, outer: x[..<axis].reduce(1, *), n: x[axis...].reduce(1, *), inner: 1,
                                           logarithmic: logarithmic))
        }
        return AnyKernel(SoftmaxKernel(shape: x, outer: x[..<axis].reduce(1, *), n: x[axis], inner: x[(axis + 1)...].reduce(1, *),
                                       logarithmic: logarithmic))
    }
}

/// `ReduceMean` and `ReduceSum` over constant axes: the forward sums through a strided layout
/// with zero strides on the reduced axes; the backward broadcasts dY back (divided by the
/// number of reduced elements for the mean).
struct ReductionKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let inputShape: [Int]
    /// The input shape with reduced axes set to 1.
    let keptShape: [Int]
    let outputShape: [Int]
    let scale: S

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        var r = StridedCopy.reduce(arguments.dense(0), to: keptShape, pool: arguments.pool)
        if scale != 1 { r.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= scale } } }
        return KernelOutputs(r.reshaped(outputShape))
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil, nil] }
        let g = dy.reshaped(keptShape)
        var dx = Dense<S>(shape: inputShape) { out in
            g.data.withUnsafeBufferPointer { gb in
                let layout = StridedLayout(shape: inputShape, strides: [Tensor.strides(inputShape),
                                                                        StridedLayout.broadcastStrides(of: keptShape, to: inputShape)])
                StridedCopy.run(layout, src: gb.baseAddress!, dst: out, accumulate: false, pool: arguments.pool)
            }
        }
        if scale != 1 { dx.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= scale } } }
        return [dx, nil]
    }

    /// The kernel for a `ReduceMean` or `ReduceSum` node (axes from the attribute or the constant
    /// input, by opset, as the operator semantics read them).
    static func kernel(_ spec: KernelSpec) throws -> AnyKernel<S> {
        let node = spec.node, x = spec.inputType(0).shape
        let axesInputOpset = node.opType == "ReduceSum" ? 13 : 18
        var axes: [Int]
        var noop = false
        if spec.opset >= axesInputOpset {
            axes = spec.hasInput(1) ? try spec.constant(1).integers.map { Int($0) } : []
            noop = try node.int("noop_with_empty_axes", default: 0) != 0
        } else {
            axes = try node.ints("axes") ?? []
        }
        if axes.isEmpty && !noop { axes = Array(0..<x.count) }
        let normalized = Set(axes.map { $0 < 0 ? $0 + x.count : $0 })
        let kept = x.enumerated().map { normalized.contains($0.offset) ? 1 : $0.element }
        let reduced = x.enumerated().filter { normalized.contains($0.offset) }.map(\.element).reduce(1, *)
        let scale: S = node.opType == "ReduceMean" ? 1 / S(max(reduced, 1)) : 1
        return AnyKernel(ReductionKernel(inputShape: x, keptShape: kept, outputShape: spec.outputTypes[0].shape, scale: scale))
    }
}
