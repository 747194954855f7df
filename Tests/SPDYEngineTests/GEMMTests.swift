import Testing
@testable import SPDYKernels

/// `GEMM.sgemm` against a Double product, including one-row products (run as matrix-vector
/// products) with and without a transposed B, alpha and beta, split over threads or not.
@Suite("GEMM")
struct GEMMTests {
    @Test("equals a Double product", arguments: [(1, 1000, 2048), (1, 37, 5), (3, 40, 17), (1, 64, 300)])
    func matchesReference(m: Int, n: Int, k: Int) {
        var random = VerifierRandom(seed: UInt64(m * 7919 + n * 31 + k))
        let a = random.values(m * k), b = random.values(k * n), c0 = random.values(m * n)
        let bT = (0..<(n * k)).map { b[($0 % k) * n + $0 / k] }  // [n × k]
        for transB in [false, true] {
            for (alpha, beta) in [(Float(1), Float(0)), (Float(0.5), Float(2))] {
                for threads in [1, 2] {
                    var c = c0
                    let operand = transB ? bT : b
                    a.withUnsafeBufferPointer { ap in
                        operand.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                GEMM.sgemm(pool: ThreadPool(threads: threads), transB: transB, m: m, n: n, k: k, alpha: alpha,
                                           a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: transB ? k : n, beta: beta,
                                           c: cp.baseAddress!, ldc: n)
                            }
                        }
                    }
                    var error = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum = 0.0
                            for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                            let want = Double(alpha) * sum + Double(beta) * Double(c0[i * n + j])
                            error = max(error, abs(want - Double(c[i * n + j])))
                        }
                    }
                    #expect(error <= 1e-4, "m \(m) n \(n) k \(k) transB \(transB) alpha \(alpha) beta \(beta) threads \(threads): \(error)")
                }
            }
        }
    }
}
