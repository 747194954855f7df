import CBLAS

/// Dense single-precision matrix products through OpenBLAS (row-major).
public enum GEMM {
    /// C[M×N] = alpha · op(A) · op(B) + beta · C, row-major, with leading dimensions.
    @inlinable
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if m == 1 && !transA {
            // A row vector times B: OpenBLAS's sgemm would pack B (a classifier's megabytes of
            // weights) on every call; its matrix-vector product streams B once.
            if transB {  // B is [n × k]
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), a, 1, beta, c, 1)
            } else {  // B is [k × n]
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb), a, 1, beta, c, 1)
            }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The same product split over `pool`'s threads: by column blocks of C when C is wide
    /// enough, else by row blocks; each block is a single-threaded OpenBLAS call.
    public static func sgemm(pool: ThreadPool, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let threads = pool.threads
        if threads == 1 || Double(m) * Double(n) * Double(k) < 2e5 {
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
            return
        }
        if n >= 32 * threads && n >= m {
            // Column blocks, multiples of 16 so each block keeps whole SIMD panels.
            let blocks = (n + 15) / 16
            pool.parallelFor(blocks, grain: 1) { range in
                let j0 = range.lowerBound * 16, j1 = min(n, range.upperBound * 16)
                sgemm(transA: transA, transB: transB, m: m, n: j1 - j0, k: k, alpha: alpha, a: a, lda: lda,
                      b: transB ? b + j0 * ldb : b + j0, ldb: ldb, beta: beta, c: c + j0, ldc: ldc)
            }
        } else {
            let blocks = (m + 7) / 8
            pool.parallelFor(blocks, grain: 1) { range in
                let i0 = range.lowerBound * 8, i1 = min(m, range.upperBound * 8)
                sgemm(transA: transA, transB: transB, m: i1 - i0, n: n, k: k, alpha: alpha,
                      a: transA ? a + i0 : a + i0 * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + i0 * ldc, ldc: ldc)
            }
        }
    }
}
