import SPDYGraph
import SPDYKernels
import SPDYTensor

/// `Gemm`: Y = α·op(A)·op(B) + β·C with op an optional transpose and C broadcast to [M, N].
///
/// dop(A) = α·dY·op(B)ᵀ and dop(B) = α·op(A)ᵀ·dY, each one BLAS call with the transposes folded
/// into its flags; dC = β·Σ dY over C's broadcast axes.
struct GemmKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let transA: Bool, transB: Bool
    let alpha: S, beta: S
    let m: Int, n: Int, k: Int
    let aShape: [Int], bShape: [Int], cShape: [Int]?

    func differentiable(input index: Int) -> Bool { index <= 2 }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        var s = SavedValues()
        if needsGradient.count > 0 && needsGradient[0] { s.inputs.insert(1) }
        if needsGradient.count > 1 && needsGradient[1] { s.inputs.insert(0) }
        return s
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let a = arguments.dense(0), b = arguments.dense(1)
        var y: Dense<S>
        var betaProduct: S = 0
        if let cShape, let c = arguments.inputs[2]?.dense, beta != 0 {
            y = Dense(zeros: [m, n])
            let layout = StridedLayout(shape: [m, n], strides: [[n, 1], StridedLayout.broadcastStrides(of: cShape, to: [m, n])])
            c.data.withUnsafeBufferPointer { cb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    StridedCopy.run(layout, src: cb.baseAddress!, dst: yb.baseAddress!, accumulate: false)
                }
            }
            if beta != 1 { y.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= beta } } }
            betaProduct = 1
        } else {
            y = Dense(zeros: [m, n])
        }
        a.data.withUnsafeBufferPointer { ab in
            b.data.withUnsafeBufferPointer { bb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    ParallelProduct.gemm(pool: arguments.pool, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                         a: ab.baseAddress!, lda: aShape[1], b: bb.baseAddress!, ldb: bShape[1],
                                         beta: betaProduct, c: yb.baseAddress!, ldc: n)
                }
            }
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil, nil, nil] }
        let pool = arguments.pool
        var da: Dense<S>? = nil, db: Dense<S>? = nil, dc: Dense<S>? = nil
        dy.data.withUnsafeBufferPointer { gb in
            let g = gb.baseAddress!
            if arguments.wants(0) {
                let b = arguments.input(1)
                da = Dense(shape: aShape) { out in
                    b.data.withUnsafeBufferPointer { bb in
                        if !transA {
                            // dA[m×k] = α·dY·op(B)ᵀ; op(B)ᵀ is B when transB, else Bᵀ.
                            ParallelProduct.gemm(pool: pool, transB: !transB, m: m, n: k, k: n, alpha: alpha, a: g, lda: n,
                                                 b: bb.baseAddress!, ldb: bShape[1], c: out, ldc: k)
                        } else {
                            // dA[k×m] = α·op(B)·dYᵀ.
                            ParallelProduct.gemm(pool: pool, transA: transB, transB: true, m: k, n: m, k: n, alpha: alpha,
                                                 a: bb.baseAddress!, lda: bShape[1], b: g, ldb: n, c: out, ldc: m)
                        }
                    }
                }
            }
            if arguments.wants(1) {
                let a = arguments.input(0)
                db = Dense(shape: bShape) { out in
                    a.data.withUnsafeBufferPointer { ab in
                        if !transB {
                            // dB[k×n] = α·op(A)ᵀ·dY; op(A)ᵀ is A when transA, else Aᵀ.
                            ParallelProduct.gemm(pool: pool, transA: !transA, m: k, n: n, k: m, alpha: alpha,
                                                 a: ab.baseAddress!, lda: aShape[1], b: g, ldb: n, c: out, ldc: n)
                        } else {
                            // dB[n×k] = α·dYᵀ·op(A).
                            ParallelProduct.gemm(pool: pool, transA: true, transB: transA, m: n, n: k, k: m, alpha: alpha,
                                                 a: g, lda: n, b: ab.baseAddress!, ldb: aShape[1], c: out, ldc: k)
                        }
                    }
                }
            }
        }
        if let cShape, arguments.wants(2) {
            var r = StridedCopy.reduce(dy, to: cShape, pool: pool)
            if beta != 1 { r.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= beta } } }
            dc = r
        }
        return [da, db, dc]
    }

    /// The kernel for a `Gemm` node.
    static func kernel(_ spec: KernelSpec) throws -> AnyKernel<S> {
        let node = spec.node
        let a = spec.inputType(0).shape, b = spec.inputType(1).shape
        let transA = try node.int("transA", default: 0) != 0, transB = try node.int("transB", default: 0) != 0
        let m = transA ? a[1] : a[0], k = transA ? a[0] : a[1], n = transB ? b[0] : b[1]
        return AnyKernel(GemmKernel(transA: transA, transB: transB, alpha: S(try node.float("alpha", default: 1)),
                                    beta: S(try node.float("beta", default: 1)), m: m, n: n, k: k, aShape: a, bShape: b,
                                    cShape: spec.hasInput(2) ? spec.inputType(2).shape : nil))
    }
}

/// `MatMul` (NumPy semantics): 1-D operands promoted, leading batch axes broadcast.
///
/// When B has no batch axes (a weight) the batch of A is folded into M: one product forward,
/// one for dA = dY·Bᵀ and one for dB = Aᵀ·dY. Otherwise a product per batch element, gradients
/// of broadcast operands summed over the batch.
struct MatMulKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let aShape: [Int], bShape: [Int], outShape: [Int]
    let m: Int, k: Int, n: Int
    /// Per output batch element, the batch element of A and of B it reads.
    let aBatch: [Int], bBatch: [Int]
    /// Whether B is one matrix for the whole batch (A's batch folded into M).
    let foldsBatch: Bool

    func differentiable(input index: Int) -> Bool { index <= 1 }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        var s = SavedValues()
        if needsGradient.count > 0 && needsGradient[0] { s.inputs.insert(1) }
        if needsGradient.count > 1 && needsGradient[1] { s.inputs.insert(0) }
        return s
    }

    init(aShape: [Int], bShape: [Int], outShape: [Int]) {
        self.aShape = aShape
        self.bShape = bShape
        self.outShape = outShape
        let a2 = aShape.count == 1 ? [1] + aShape : aShape
        let b2 = bShape.count == 1 ? bShape + [1] : bShape
        m = a2[a2.count - 2]
        k = a2[a2.count - 1]
        n = b2[b2.count - 1]
        let batchA = Array(a2.dropLast(2)), batchB = Array(b2.dropLast(2))
        let batch = Broadcast.shape([batchA, batchB]) ?? []
        foldsBatch = batchB.allSatisfy { $0 == 1 } && batchA.count >= batchB.count
        aBatch = Broadcast.sourceIndices(from: batchA, to: batch)
        bBatch = Broadcast.sourceIndices(from: batchB, to: batch)
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let a = arguments.dense(0), b = arguments.dense(1)
        let pool = arguments.pool
        let y = Dense<S>(shape: outShape) { y in
            a.data.withUnsafeBufferPointer { ab in
                b.data.withUnsafeBufferPointer { bb in
                    let ap = ab.baseAddress!, bp = bb.baseAddress!
                    if foldsBatch {
                        let rows = aBatch.count * m
                        ParallelProduct.gemm(pool: pool, m: rows, n: n, k: k, a: ap, lda: k, b: bp, ldb: n, c: y, ldc: n)
                    } else {
                        batched(count: aBatch.count, pool: pool, disjoint: true) { t in
                            S.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: ap + aBatch[t] * m * k, lda: k,
                                   b: bp + bBatch[t] * k * n, ldb: n, beta: 0, c: y + t * m * n, ldc: n)
                        }
                    }
                }
            }
        }
        return KernelOutputs(y)
    }

    /// Runs `body` for each batch element, split over threads when `disjoint` (no two elements
    /// write one output) and the products are small enough not to be split themselves.
    private func batched(count: Int, pool: ThreadPool, disjoint: Bool, _ body: (Int) -> Void) {
        if disjoint && pool.threads > 1 && count > 1 {
            pool.parallelFor(count, grain: 1) { range in for t in range { body(t) } }
        } else {
            for t in 0..<count { body(t) }
        }
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil, nil] }
        let pool = arguments.pool
        var da: Dense<S>? = nil, db: Dense<S>? = nil
        let count = aBatch.count
        dy.data.withUnsafeBufferPointer { gb in
            let g = gb.baseAddress!
            if arguments.wants(0) {
                let b = arguments.input(1)
                var out = Dense<S>(zeros: aShape)
                b.data.withUnsafeBufferPointer { bb in
                    out.data.withUnsafeMutableBufferPointer { ob in
                        let bp = bb.baseAddress!, op = ob.baseAddress!
                        if foldsBatch {
                            ParallelProduct.gemm(pool: pool, transB: true, m: count * m, n: k, k: n, a: g, lda: n, b: bp, ldb: n,
                                                 c: op, ldc: k)
                        } else {
                            let disjoint = Set(aBatch).count == count
                            batched(count: count, pool: pool, disjoint: disjoint) { t in
                                S.gemm(transA: false, transB: true, m: m, n: k, k: n, alpha: 1, a: g + t * m * n, lda: n,
                                       b: bp + bBatch[t] * k * n, ldb: n, beta: 1, c: op + aBatch[t] * m * k, ldc: k)
                            }
                        }
                    }
                }
                da = out
            }
            if arguments.wants(1) {
                let a = arguments.input(0)
                var out = Dense<S>(zeros: bShape)
                a.data.withUnsafeBufferPointer { ab in
                    out.data.withUnsafeMutableBufferPointer { ob in
                        let ap = ab.baseAddress!, op = ob.baseAddress!
                        if foldsBatch {
                            ParallelProduct.gemm(pool: pool, transA: true, m: k, n: n, k: count * m, a: ap, lda: k, b: g, ldb: n,
                                                 c: op, ldc: n)
                        } else {
                            let disjoint = Set(bBatch).count == count
                            batched(count: count, pool: pool, disjoint: disjoint) { t in
                                S.gemm(transA: true, transB: false, m: k, n: n, k: m, alpha: 1, a: ap + aBatch[t] * m * k, lda: k,
                                       b: g + t * m * n, ldb: n, beta: 1, c: op + bBatch[t] * k * n, ldc: n)
                            }
                        }
                    }
                }
                db = out
            }
        }
        return [da, db]
    }

    /// The kernel for a `MatMul` node.
    static func kernel(_ spec: KernelSpec) throws -> AnyKernel<S> {
        AnyKernel(MatMulKernel(aShape: spec.inputType(0).shape, bShape: spec.inputType(1).shape, outShape: spec.outputTypes[0].shape))
    }
}
