import CBLAS
import RealModule
import SPDYKernels

/// The element type the training executor computes in: `Float` for training, `Double` for
/// gradient checks (the same kernels in float64, so central differences are accurate).
///
/// Besides arithmetic (`Real`), a scalar brings its BLAS product and buffer-wide transcendental
/// functions; `Float`'s use the AVX2 lane functions of `VectorMath`, `Double`'s plain loops.
public protocol TrainingScalar: Real, BinaryFloatingPoint, Sendable {
    /// Row-major `C[m×n] = alpha · op(A) · op(B) + beta · C` on one thread (OpenBLAS sgemm/dgemm).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// y = e^x over `count` elements (y may be x).
    static func exp(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int)
    /// y = 1 / (1 + e^−x).
    static func sigmoid(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int)
    /// y = tanh(x).
    static func tanh(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int)
    /// y = erf(x).
    static func erf(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int)
}

extension Float: TrainingScalar {
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
    }

    @inlinable
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.exp(x, y, count: count)
    }

    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.sigmoid(x, y, count: count)
    }

    @inlinable
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.tanh(x, y, count: count)
    }

    @inlinable
    public static func erf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.erf(x, y, count: count)
    }
}

extension Double: TrainingScalar {
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    @inlinable
    public static func exp(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] = Double.exp(x[i]) }
    }

    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] = 1 / (1 + Double.exp(-x[i])) }
    }

    @inlinable
    public static func tanh(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] = Double.tanh(x[i]) }
    }

    @inlinable
    public static func erf(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] = Double.erf(x[i]) }
    }
}
