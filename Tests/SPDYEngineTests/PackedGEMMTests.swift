import Testing
import SPDYKernels
import SPDYTensor

/// The packed micro-kernel against the naive reference product, over odd shapes (row and
/// column tails, depth 1), leading dimensions wider than the matrix, and 1 or 2 threads.
@Suite("Packed GEMM equals the reference product")
struct PackedGEMMTests {
    @Test(arguments: [(1, 1, 1), (5, 3, 7), (6, 16, 16), (7, 17, 33), (6, 5, 40), (13, 1, 15), (16, 144, 784), (64, 9, 49)])
    func matchesReference(shape: (Int, Int, Int)) {
        let (m, k, n) = shape
        for threads in [1, 2] { for isa in KernelInstructionSet.available {
            let lda = k + 3, ldb = n + 5, ldc = n + 2
            var a = [Float](repeating: .nan, count: m * lda), b = [Float](repeating: .nan, count: k * ldb)
            var dense = [Float](repeating: 0, count: m * k), denseB = [Float](repeating: 0, count: k * n)
            for i in 0..<m { for j in 0..<k { a[i * lda + j] = Float((i * 7 + j * 3) % 11) - 5; dense[i * k + j] = a[i * lda + j] } }
            for i in 0..<k { for j in 0..<n { b[i * ldb + j] = Float((i * 5 + j) % 9) - 4; denseB[i * n + j] = b[i * ldb + j] } }
            let expected = ReferenceMath.matmul(dense, denseB, m: m, k: k, n: n)
            var c = [Float](repeating: -7, count: m * ldc)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        let packed = PackedMatrix(rows: m, depth: k, a: pa.baseAddress!, lda: lda)
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: packed.scratchPerThread * threads)
                        packed.multiply(n: n, b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: ldc, scratch: scratch,
                                        pool: ThreadPool(threads: threads), instructionSet: isa)
                        scratch.deallocate()
                        packed.deallocate()
                    }
                }
            }
            for i in 0..<m {
                for j in 0..<n { #expect(abs(c[i * ldc + j] - expected[i * n + j]) <= 1e-3, "(\(i), \(j)) of \(shape) \(isa)") }
                for j in n..<ldc { #expect(c[i * ldc + j] == -7, "wrote outside C at (\(i), \(j)) \(isa)") }
            }
        } }
    }
}
