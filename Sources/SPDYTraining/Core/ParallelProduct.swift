import SPDYKernels

/// Matrix products split over the executor's threads, each block one single-threaded BLAS call
/// (OpenBLAS itself runs on one thread: all parallelism is the `ThreadPool`'s).
enum ParallelProduct {
    /// Row-major `C[m×n] = alpha · op(A) · op(B) + beta · C`, split by column blocks of C when it
    /// is wide, else by row blocks. `k == 0` scales C by beta (BLAS may leave it untouched).
    static func gemm<S: TrainingScalar>(pool: ThreadPool, transA: Bool = false, transB: Bool = false,
                                        m: Int, n: Int, k: Int, alpha: S = 1,
                                        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
                                        beta: S = 0, c: UnsafeMutablePointer<S>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m {
                let row = c + i * ldc
                for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
            }
            return
        }
        let threads = pool.threads
        if threads == 1 || Double(m) * Double(n) * Double(k) < 2e5 {
            S.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
            return
        }
        if k >= 16 * max(m, n) && m * n <= 1 << 18 {
            // A long inner dimension (weight gradients: dY·colsᵀ over all images): each thread
            // multiplies its share of k into its own C, then C = β·C + Σ. Splitting C instead
            // would make every thread pack the whole of A or B.
            let partial = UnsafeMutablePointer<S>.allocate(capacity: threads * m * n)
            defer { partial.deallocate() }
            pool.parallelChunks(k) { chunk, range in
                let p0 = range.lowerBound
                S.gemm(transA: transA, transB: transB, m: m, n: n, k: range.count, alpha: alpha,
                       a: transA ? a + p0 * lda : a + p0, lda: lda, b: transB ? b + p0 : b + p0 * ldb, ldb: ldb,
                       beta: 0, c: partial + chunk * m * n, ldc: n)
            }
            let used = min(threads, k)
            for i in 0..<m {
                let row = c + i * ldc
                for j in 0..<n {
                    var sum: S = beta == 0 ? 0 : beta * row[j]
                    for t in 0..<used { sum += partial[t * m * n + i * n + j] }
                    row[j] = sum
                }
            }
            return
        }
        if n >= 32 * threads && n >= m {
            let blocks = (n + 15) / 16
            pool.parallelFor(blocks, grain: 1) { range in
                let j0 = range.lowerBound * 16, j1 = min(n, range.upperBound * 16)
                S.gemm(transA: transA, transB: transB, m: m, n: j1 - j0, k: k, alpha: alpha, a: a, lda: lda,
                       b: transB ? b + j0 * ldb : b + j0, ldb: ldb, beta: beta, c: c + j0, ldc: ldc)
            }
        } else if m >= 8 * threads {
            let blocks = (m + 7) / 8
            pool.parallelFor(blocks, grain: 1) { range in
                let i0 = range.lowerBound * 8, i1 = min(m, range.upperBound * 8)
                S.gemm(transA: transA, transB: transB, m: i1 - i0, n: n, k: k, alpha: alpha,
                       a: transA ? a + i0 : a + i0 * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + i0 * ldc, ldc: ldc)
            }
        } else {
            S.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
        }
    }
}
