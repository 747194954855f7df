import RealModule
import SPDYGraph
import SPDYKernels
import SPDYTensor

/// `Conv` (1-D and 2-D, any groups, strides, pads, dilations) by im2col and BLAS products.
///
/// Forward: per group, Y_g[M/g × images·P] = W_g[M/g × K] · cols[K × images·P] with K = C/g·kh·kw
/// and P = OH·OW, several images per product. Backward: dW_g += dY_g · colsᵀ (the patch matrix
/// rebuilt from the saved input), dcols = W_gᵀ · dY_g folded back onto dX (col2im), dB = Σ dY.
/// Depthwise convolutions (one input and output channel per group) use direct loops instead.
struct ConvolutionKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let window: WindowShape
    let groups: Int
    let outChannels: Int
    let hasBias: Bool
    /// X's and Y's shapes ([N, C, W] for 1-D convolutions).
    let inputShape: [Int], outputShape: [Int]
    /// Largest patch matrix, in elements, before images are split into several products.
    let workspaceLimit: Int

    var groupIn: Int { window.channels / groups }
    var groupOut: Int { outChannels / groups }
    var patch: Int { groupIn * window.taps }
    var isDepthwise: Bool { groupIn == 1 && groupOut == 1 }

    func differentiable(input index: Int) -> Bool { index <= 2 }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        // dX reads W (a parameter or constant, always available); dW reads X.
        needsGradient.count > 1 && needsGradient[1] ? SavedValues(inputs: [0]) : SavedValues()
    }

    /// Images per product: the patch matrix of `images` images stays under the workspace limit.
    private var imagesPerProduct: Int {
        let perImage = max(1, patch * window.outPlane)
        return max(1, min(window.batch, workspaceLimit / perImage))
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0), w = arguments.dense(1)
        let bias = hasBias ? arguments.dense(2) : nil
        let P = window.outPlane
        if window.batch == 0 || P == 0 { return KernelOutputs(Dense<S>(zeros: outputShape)) }
        // Every element is written by a product (β = 0) or the depthwise loops.
        var y = Dense<S>(shape: outputShape) { _ in }
        let pool = arguments.pool
        x.data.withUnsafeBufferPointer { xb in
            w.data.withUnsafeBufferPointer { wb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    let xp = xb.baseAddress!, wp = wb.baseAddress!, yp = yb.baseAddress!
                    if isDepthwise {
                        DepthwiseConvolution.forward(window, x: xp, w: wp, y: yp, pool: pool)
                    } else {
                        forwardByProducts(x: xp, w: wp, y: yp, pool: pool)
                    }
                }
            }
        }
        if let bias {
            let planes = window.batch * outChannels
            y.data.withUnsafeMutableBufferPointer { yb in
                bias.data.withUnsafeBufferPointer { bb in
                    let yp = yb.baseAddress!, bp = bb.baseAddress!
                    pool.parallelFor(planes, grain: max(1, 4096 / P)) { range in
                        for plane in range {
                            let b = bp[plane % outChannels], row = yp + plane * P
                            for i in 0..<P { row[i] += b }
                        }
                    }
                }
            }
        }
        return KernelOutputs(y)
    }

    private func forwardByProducts(x: UnsafePointer<S>, w: UnsafePointer<S>, y: UnsafeMutablePointer<S>, pool: ThreadPool) {
        let P = window.outPlane, K = patch, inImage = window.channels * window.inPlane, outImage = outChannels * P
        let chunk = imagesPerProduct
        let direct = window.isPointwise && chunk == 1
        let columns = direct ? nil : UnsafeMutablePointer<S>.allocate(capacity: K * chunk * P)
        // One product for all images side by side beats one per image (OpenBLAS packs per call;
        // measured on the demo ResNet: 300 vs 400 samples/s), at the price of copying back.
        let product = chunk > 1 ? UnsafeMutablePointer<S>.allocate(capacity: groupOut * chunk * P) : nil
        defer { columns?.deallocate(); product?.deallocate() }
        for n0 in stride(from: 0, to: window.batch, by: chunk) {
            let nb = min(chunk, window.batch - n0), width = nb * P
            for g in 0..<groups {
                let wg = w + g * groupOut * K
                let b: UnsafePointer<S>
                if let columns {
                    unfold(x: x, image: n0, count: nb, group: g, into: columns, width: width, pool: pool)
                    b = UnsafePointer(columns)
                } else {
                    b = x + n0 * inImage + g * groupIn * window.inPlane
                }
                if nb == 1 {
                    ParallelProduct.gemm(pool: pool, m: groupOut, n: P, k: K, a: wg, lda: K, b: b, ldb: width,
                                         c: y + n0 * outImage + g * groupOut * P, ldc: P)
                } else {
                    ParallelProduct.gemm(pool: pool, m: groupOut, n: width, k: K, a: wg, lda: K, b: b, ldb: width,
                                         c: product!, ldc: width)
                    // Side-by-side images back to NCHW.
                    for i in 0..<nb {
                        for m in 0..<groupOut {
                            (y + (n0 + i) * outImage + (g * groupOut + m) * P).update(from: product! + m * width + i * P, count: P)
                        }
                    }
                }
            }
        }
    }

    /// The patch matrix of images `image..<image+count`, group `group`, side by side.
    private func unfold(x: UnsafePointer<S>, image: Int, count: Int, group: Int, into columns: UnsafeMutablePointer<S>,
                        width: Int, pool: ThreadPool) {
        let inImage = window.channels * window.inPlane, P = window.outPlane
        let tasks = count * groupIn
        let w = window, gi = groupIn
        pool.parallelFor(tasks, grain: max(1, tasks / (4 * pool.threads))) { range in
            for t in range {
                let i = t / gi, c = t % gi
                ConvolutionColumns.unfold(w, input: x + (image + i) * inImage + group * gi * w.inPlane,
                                          channels: c..<(c + 1), columns: columns, rowStride: width, columnOffset: i * P)
            }
        }
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil, nil, nil] }
        let pool = arguments.pool
        let w = arguments.input(1)
        let wantX = arguments.wants(0), wantW = arguments.wants(1), wantB = hasBias && arguments.wants(2)
        var dx: Dense<S>? = wantX ? Dense(zeros: inputShape) : nil
        // dW is written by the first product (β = 0) of each group; zeros only without images.
        var dw: Dense<S>? = wantW ? (window.batch > 0 && window.outPlane > 0 ? Dense(shape: w.shape) { _ in } : Dense(zeros: w.shape)) : nil
        var db: Dense<S>? = nil
        let P = window.outPlane
        if wantB {
            var sums = [S](repeating: 0, count: outChannels)
            dy.data.withUnsafeBufferPointer { g in
                let gp = g.baseAddress!
                sums.withUnsafeMutableBufferPointer { s in
                    let sp = s.baseAddress!
                    pool.parallelFor(outChannels, grain: 1) { range in
                        for m in range {
                            var acc: S = 0
                            for n in 0..<window.batch {
                                let row = gp + (n * outChannels + m) * P
                                for i in 0..<P { acc = Relaxed.sum(acc, row[i]) }
                            }
                            sp[m] = acc
                        }
                    }
                }
            }
            db = Dense(shape: [outChannels], data: sums)
        }
        if (wantX || wantW) && window.batch > 0 && P > 0 {
            let x = wantW ? arguments.input(0) : nil
            dy.data.withUnsafeBufferPointer { gb in
                w.data.withUnsafeBufferPointer { wb in
                    let gp = gb.baseAddress!, wp = wb.baseAddress!
                    withOptionalPointer(&dx) { dxp in
                        withOptionalPointer(&dw) { dwp in
                            withOptionalConstPointer(x) { xp in
                                if isDepthwise {
                                    DepthwiseConvolution.backward(window, x: xp, w: wp, dy: gp, dx: dxp, dw: dwp, pool: pool)
                                } else {
                                    backwardByProducts(x: xp, w: wp, dy: gp, dx: dxp, dw: dwp, pool: pool)
                                }
                            }
                        }
                    }
                }
            }
        }
        return [dx, dw, db]
    }

    private func backwardByProducts(x: UnsafePointer<S>?, w: UnsafePointer<S>, dy: UnsafePointer<S>,
                                    dx: UnsafeMutablePointer<S>?, dw: UnsafeMutablePointer<S>?, pool: ThreadPool) {
        let P = window.outPlane, K = patch, outImage = outChannels * P
        let chunk = imagesPerProduct
        let columns = UnsafeMutablePointer<S>.allocate(capacity: K * chunk * P)
        let gathered = chunk > 1 ? UnsafeMutablePointer<S>.allocate(capacity: groupOut * chunk * P) : nil
        defer { columns.deallocate(); gathered?.deallocate() }
        var first = true
        for n0 in stride(from: 0, to: window.batch, by: chunk) {
            let nb = min(chunk, window.batch - n0), width = nb * P
            for g in 0..<groups {
                // The output gradient of this group, images side by side: [M/g × width].
                let dyg: UnsafePointer<S>
                let ldy: Int
                if nb == 1 {
                    dyg = dy + n0 * outImage + g * groupOut * P
                    ldy = P
                } else {
                    for i in 0..<nb {
                        for m in 0..<groupOut {
                            (gathered! + m * width + i * P).update(from: dy + (n0 + i) * outImage + (g * groupOut + m) * P, count: P)
                        }
                    }
                    dyg = UnsafePointer(gathered!)
                    ldy = width
                }
                if let dw, let x {
                    unfold(x: x, image: n0, count: nb, group: g, into: columns, width: width, pool: pool)
                    ParallelProduct.gemm(pool: pool, transB: true, m: groupOut, n: K, k: width, a: dyg, lda: ldy,
                                         b: columns, ldb: width, beta: first ? 0 : 1, c: dw + g * groupOut * K, ldc: K)
                }
                if let dx {
                    ParallelProduct.gemm(pool: pool, transA: true, m: K, n: width, k: groupOut, a: w + g * groupOut * K, lda: K,
                                         b: dyg, ldb: ldy, c: columns, ldc: width)
                    foldColumns(columns, image: n0, count: nb, group: g, width: width, into: dx, pool: pool)
                }
            }
            first = false
        }
    }
}

extension ConvolutionKernel {
    /// Adds the patch-matrix gradient of images `image..<image+count`, group `group`, onto dX.
    fileprivate func foldColumns(_ columns: UnsafeMutablePointer<S>, image: Int, count: Int, group: Int, width: Int,
                                 into dx: UnsafeMutablePointer<S>, pool: ThreadPool) {
        let inImage = window.channels * window.inPlane, P = window.outPlane
        let tasks = count * groupIn, gi = groupIn, win = window
        pool.parallelFor(tasks, grain: max(1, tasks / (4 * pool.threads))) { range in
            for t in range {
                let i = t / gi, c = t % gi
                ConvolutionColumns.fold(win, columns: columns, channels: c..<(c + 1), rowStride: width,
                                        columnOffset: i * P, into: dx + (image + i) * inImage + group * gi * win.inPlane)
            }
        }
    }
}

/// Calls `body` with the mutable elements of `value`, or nil when there is none.
func withOptionalPointer<S, R>(_ value: inout Dense<S>?, _ body: (UnsafeMutablePointer<S>?) -> R) -> R {
    guard value != nil else { return body(nil) }
    return value!.data.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}

/// Calls `body` with the elements of `value`, or nil when there is none.
func withOptionalConstPointer<S, R>(_ value: Dense<S>?, _ body: (UnsafePointer<S>?) -> R) -> R {
    guard let value else { return body(nil) }
    return value.data.withUnsafeBufferPointer { body($0.baseAddress) }
}

extension ConvolutionKernel {
    /// The kernel for a `Conv` node.
    static func kernel(_ spec: KernelSpec) throws -> AnyKernel<S> {
        let x = spec.inputType(0).shape, w = spec.inputType(1).shape, y = spec.outputTypes[0].shape
        guard x.count == 3 || x.count == 4 else { throw spec.unsupported("only 1-D and 2-D convolutions are supported, input \(x)") }
        let window = try WindowShape(spec, input: x, kernel: Array(w[2...]), output: Array(y[2...]))
        let groups = try spec.node.int("group", default: 1)
        return AnyKernel(ConvolutionKernel(window: window, groups: groups, outChannels: w[0], hasBias: spec.hasInput(2),
                                           inputShape: x, outputShape: y, workspaceLimit: spec.workspaceElements))
    }
}
