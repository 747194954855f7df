// Dense product kernels side by side: OpenBLAS sgemm against our packed micro-kernel, on the
// shapes convolutions and linear layers produce. Prints GFLOP/s of each and the ratio.
// Run: swift run -c release -Xswiftc -enable-testing kernel-bench [threads]
import Dispatch
import Foundation
import SPDYKernels

let threads = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1 : 1
let pool = ThreadPool(threads: threads)
let tileOverride = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) : nil
let shapes: [(String, Int, Int, Int)] = [
    ("demo layer1 3x3", 16, 144, 784), ("demo layer3 3x3", 64, 576, 49 * 8), ("rn50 layer1 1x1", 64, 256, 3136),
    ("rn50 layer3 3x3", 256, 2304, 196), ("rn50 layer4 1x1", 512, 2048, 49), ("bert 384x384", 384, 384, 1024),
    ("bert 1536x384", 1536, 384, 1024),
]

func median(_ body: () -> Void) -> Double {
    for _ in 0..<3 { body() }
    var samples: [Double] = []
    for _ in 0..<15 {
        let t = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
    }
    return samples.sorted()[samples.count / 2]
}

print("threads \(threads)")
print("shape                 M     K     N   openblas GF/s  packed GF/s  ratio")
for (name, m, k, n) in shapes {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k), b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
    for i in 0..<(m * k) { a[i] = Float(i % 7) - 3 }
    for i in 0..<(k * n) { b[i] = Float(i % 5) - 2 }
    let packed = PackedMatrix(rows: m, depth: k, a: a, lda: k)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: packed.scratchPerThread * threads)
    let flops = 2.0 * Double(m * k * n)
    let blas = median { GEMM.sgemm(pool: pool, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n) }
    let ours = median { packed.multiply(n: n, b: b, ldb: n, c: c, ldc: n, scratch: scratch, pool: pool) }
    let blasRate: Double = flops / blas / 1e9
    let oursRate: Double = flops / ours / 1e9
    let ratio: Double = blas / ours
    let label = name.padding(toLength: 18, withPad: " ", startingAt: 0)
    let figures = String(format: "%5d %5d %5d   %8.1f      %8.1f    %5.2f×", m, k, n, blasRate, oursRate, ratio)
    print(label + figures)
    packed.deallocate(); a.deallocate(); b.deallocate(); c.deallocate(); scratch.deallocate()
}

// Sparse × dense products against OpenBLAS dense on the same shape (A with magnitude-pruned
// random values), per sparsity: Y[M×N] = A[M×K] · X[K×N].
print("\nsparse products (A pruned at random), speedup over OpenBLAS dense")
print("shape                 M     K     N  sparsity  dense ms  sparse ms  speedup  nnz GF/s")
for (name, m, k, n) in (ProcessInfo.processInfo.environment["SHAPES"] == "probe" ? [("probe k64", 768, 64, 1024), ("probe k128", 768, 128, 1024), ("probe k512", 768, 512, 1024)] : shapes) + [("bert 768x768 x1024", 768, 768, 1024), ("bert 3072x768 x1024", 3072, 768, 1024)] {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k), b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
    var rng = SystemRandomNumberGenerator()
    for i in 0..<(k * n) { b[i] = Float.random(in: -1...1, using: &rng) }
    let dense = median { GEMM.sgemm(pool: pool, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n) }
    for s in [0.5, 0.8, 0.9, 0.95, 0.99] {
        for i in 0..<(m * k) { a[i] = Double.random(in: 0..<1, using: &rng) < s ? 0 : Float.random(in: -1...1, using: &rng) }
        let tw = tileOverride ?? SparseMatrix.tileWidth(depth: k)
        let sparse = SparseMatrix(rows: m, depth: k, a: a, lda: k, ldx: tw)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 4 * SparseMatrix.scratchPerThread(depth: k, tileWidth: tw) * threads, alignment: 64).bindMemory(to: Float.self, capacity: SparseMatrix.scratchPerThread(depth: k, tileWidth: tw) * threads)
        defer { scratch.deallocate() }
        let t = median { sparse.multiply(n: n, x: b, ldx: n, y: c, ldy: n, epilogue: .identity, pool: pool, tileWidth: tw, scratch: scratch) }
        let label = name.padding(toLength: 18, withPad: " ", startingAt: 0)
        print(label + String(format: "%5d %5d %5d   %5.2f   %8.3f  %8.3f   %6.2f×  %6.1f", m, k, n, s, dense * 1e3, t * 1e3,
                             dense / t, 2.0 * Double(sparse.nonzeros * n) / t / 1e9))
        sparse.deallocate()
    }
    a.deallocate(); b.deallocate(); c.deallocate()
}
