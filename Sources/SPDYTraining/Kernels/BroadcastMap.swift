import SPDYKernels
import SPDYTensor

/// A scalar function of two arguments, applied by `BroadcastMap` (a type, not a closure, so the
/// loop is specialised and the function inlined).
protocol BinaryFunction {
    associatedtype S: TrainingScalar
    func callAsFunction(_ a: S, _ b: S) -> S
}

/// Elementwise maps over NumPy-broadcast operands.
enum BroadcastMap {
    /// `f(a, b)` for `a` and `b` broadcast to `shape` (their broadcast shape), written contiguously.
    static func map<F: BinaryFunction>(_ a: Dense<F.S>, _ b: Dense<F.S>, shape: [Int], _ f: F, pool: ThreadPool) -> Dense<F.S> {
        let layout = StridedLayout.broadcast(to: shape, from: [a.shape, b.shape])
        let n = layout.inner
        let so = layout.innerStrides[0], sa = layout.innerStrides[1], sb = layout.innerStrides[2]
        return Dense(shape: shape) { out in
            a.data.withUnsafeBufferPointer { ab in
                b.data.withUnsafeBufferPointer { bb in
                    let ap = ab.baseAddress!, bp = bb.baseAddress!
                    let rows = layout.rows
                    let work = { (range: Range<Int>) in
                        layout.forEachRow(in: range) { off in
                            let o = out + off[0], x = ap + off[1], y = bp + off[2]
                            if so == 1 && sa == 1 && sb == 1 {
                                for i in 0..<n { o[i] = f(x[i], y[i]) }
                            } else if so == 1 && sa == 1 && sb == 0 {
                                let c = y[0]
                                for i in 0..<n { o[i] = f(x[i], c) }
                            } else if so == 1 && sa == 0 && sb == 1 {
                                let c = x[0]
                                for i in 0..<n { o[i] = f(c, y[i]) }
                            } else {
                                for i in 0..<n { o[i * so] = f(x[i * sa], y[i * sb]) }
                            }
                        }
                    }
                    if pool.threads > 1 && rows > 1 && rows * n >= 1 << 15 {
                        pool.parallelFor(rows, grain: max(1, (1 << 13) / max(n, 1)), work)
                    } else if n > 0 {
                        work(0..<rows)
                    }
                }
            }
        }
    }
}

/// The four arithmetic functions and the power with a given exponent.
enum Arithmetic {
    struct Add<S: TrainingScalar>: BinaryFunction { @inline(__always) func callAsFunction(_ a: S, _ b: S) -> S { a + b } }
    struct Sub<S: TrainingScalar>: BinaryFunction { @inline(__always) func callAsFunction(_ a: S, _ b: S) -> S { a - b } }
    struct Mul<S: TrainingScalar>: BinaryFunction { @inline(__always) func callAsFunction(_ a: S, _ b: S) -> S { a * b } }
    struct Div<S: TrainingScalar>: BinaryFunction { @inline(__always) func callAsFunction(_ a: S, _ b: S) -> S { a / b } }
    /// −a / b² (Div's divisor gradient with a = dY·A).
    struct NegDivSquare<S: TrainingScalar>: BinaryFunction {
        @inline(__always) func callAsFunction(_ a: S, _ b: S) -> S { -a / (b * b) }
    }
    /// x^p (integer exponents exactly, so negative bases work as in ONNX Runtime).
    struct Power<S: TrainingScalar>: BinaryFunction {
        @inline(__always) func callAsFunction(_ x: S, _ p: S) -> S { power(x, p) }
    }
    /// p · x^(p−1), the derivative of x^p.
    struct PowerDerivative<S: TrainingScalar>: BinaryFunction {
        @inline(__always) func callAsFunction(_ x: S, _ p: S) -> S {
            p == 0 ? 0 : p * power(x, p - 1)
        }
    }

    @inline(__always)
    static func power<S: TrainingScalar>(_ x: S, _ p: S) -> S {
        if p == 2 { return x * x }
        if p == 1 { return x }
        if p == 0 { return 1 }
        if p == S(1) / 2 { return x.squareRoot() }
        if p.rounded() == p, Swift.abs(p) < S(1 << 30) { return S.pow(x, Int(p)) }
        return S.pow(x, p)
    }
}
