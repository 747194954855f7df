/// Vectorised transcendental functions over float buffers (8 lanes: one AVX2 register).
///
/// `exp` follows Cephes' `expf` (range reduction by ln 2, degree-6 polynomial; relative error
/// below 5e-6 over [−87, 88], far smaller near 0 where softmax and sigmoid use it); `erf` uses
/// Abramowitz–Stegun 7.1.26 (absolute error ≤ 1.5e-7 in exact arithmetic, 5e-7 in float).
/// Both are checked against Foundation in the engine tests (VectorMathTests).
public enum VectorMath {
    public typealias V = SIMD8<Float>

    /// min(max(v, lo), hi) lane by lane, as selects (`SIMD.clamped` goes through generic
    /// min/max calls that are not inlined).
    @inlinable @inline(__always)
    public static func clamp(_ v: V, _ lo: V, _ hi: V) -> V {
        var r = v
        r.replace(with: lo, where: r .< lo)
        r.replace(with: hi, where: r .> hi)
        return r
    }

    /// The largest of `count` floats (−∞ for none), eight lanes at a time.
    @inlinable
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m = V(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            m.replace(with: v, where: v .> m)
            i += 8
        }
        var r = m.max()
        while i < count { r = Swift.max(r, x[i]); i += 1 }
        return r
    }

    /// Σ x over `count` floats, in eight lane-wise partial sums.
    @inlinable
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var s = V(), t = V()
        var i = 0
        while i + 16 <= count {
            s += UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            t += UnsafeRawPointer(x + i + 8).loadUnaligned(as: V.self)
            i += 16
        }
        var r = (s + t).sum()
        while i < count { r += x[i]; i += 1 }
        return r
    }

    /// Σ (x − c)² over `count` floats, in lane-wise partial sums.
    @inlinable
    public static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, from c: Float, count: Int) -> Float {
        var s = V()
        let cv = V(repeating: c)
        var i = 0
        while i + 8 <= count {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: V.self) - cv
            s.addProduct(d, d)
            i += 8
        }
        var r = s.sum()
        while i < count { let d = x[i] - c; r += d * d; i += 1 }
        return r
    }

    /// z = clamp(x + y, lo, hi) over `count` floats (z may be x or y).
    @inlinable
    public static func add(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                           count: Int, lo: Float = -.infinity, hi: Float = .infinity) {
        let l = V(repeating: lo), h = V(repeating: hi)
        var i = 0
        while i + 8 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: V.self), b = UnsafeRawPointer(y + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(z + i).storeBytes(of: clamp(a + b, l, h), as: V.self)
            i += 8
        }
        while i < count {
            z[i] = Swift.min(Swift.max(x[i] + y[i], lo), hi)
            i += 1
        }
    }

    /// z = clamp(x + c, lo, hi) over `count` floats (a per-row bias plus ReLU/Clip), in place allowed.
    @inlinable
    public static func addScalar(_ x: UnsafePointer<Float>, _ c: Float, _ z: UnsafeMutablePointer<Float>,
                                 count: Int, lo: Float = -.infinity, hi: Float = .infinity) {
        let l = V(repeating: lo), h = V(repeating: hi), cv = V(repeating: c)
        var i = 0
        while i + 8 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(z + i).storeBytes(of: clamp(a + cv, l, h), as: V.self)
            i += 8
        }
        while i < count {
            z[i] = Swift.min(Swift.max(x[i] + c, lo), hi)
            i += 1
        }
    }

    @inlinable @inline(__always)
    public static func exp(_ v: V) -> V {
        let x = clamp(v, V(repeating: -87.3), V(repeating: 88.3))
        // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick: the integer lands in
        // the low mantissa bits of t, no float→int conversion needed.
        let magic = V(repeating: 12_582_912)
        let t = x * 1.44269504088896341 + magic
        let n = t - magic
        var r = x - n * 0.693359375
        r = r - n * -2.12194440e-4
        let z = r * r
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * z + r + 1
        let k = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((k &+ 127) &<< 23, to: V.self)
        return y * scale
    }

    /// erf(x) as a rational function of x (odd degree-13 numerator, even degree-8 denominator,
    /// the minimax fit Eigen uses) on x clamped to [−4, 4], where float erf is ±1 outside: no
    /// exp, one division; max abs error 4.2e-7 in float (the Abramowitz–Stegun form with exp
    /// used before: 5.3e-7, and about twice the work).
    @inlinable @inline(__always)
    public static func erf(_ v: V) -> V {
        let x = clamp(v, V(repeating: -4), V(repeating: 4))
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p - 2.10102402082508e-06
        p = x2 * p - 5.69250639462346e-05
        p = x2 * p - 7.34990630326855e-04
        p = x2 * p - 2.95459980854025e-03
        p = x2 * p - 1.60960333262415e-02
        var q = x2 * -1.45660718464996e-05 - 2.13374055278905e-04
        q = x2 * q - 1.68282697438203e-03
        q = x2 * q - 7.37332916720468e-03
        q = x2 * q - 1.42647390514189e-02
        return x * p / q
    }

    /// Applies `f` lane-wise over `count` elements, with a scalar tail through the same code.
    /// Generic over a `LaneFunction` type rather than a closure: specialisation inlines `apply`
    /// into the loop (a closure argument was compiled as a call per vector, 3–4× slower).
    @inlinable @inline(__always)
    public static func map<F: LaneFunction>(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ f: F) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: f.apply(v), as: V.self)
            i += 8
        }
        if i < count {
            var v = V(repeating: 0)
            for j in 0..<(count - i) { v[j] = x[i + j] }
            let r = f.apply(v)
            for j in 0..<(count - i) { y[i + j] = r[j] }
        }
    }

    /// y = e^x.
    @inlinable
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count, Lanes.Exp(shift: 0))
    }

    /// y = e^(x − shift) (softmax's numerator).
    @inlinable
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, minus shift: Float) {
        map(x, y, count, Lanes.Exp(shift: shift))
    }

    /// y = 1 / (1 + e^-x).
    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count, Lanes.Sigmoid())
    }

    /// y = x / (1 + e^-x).
    @inlinable
    public static func silu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count, Lanes.SiLU())
    }

    /// y = erf(x).
    @inlinable
    public static func erf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count, Lanes.Erf())
    }

    /// y = 0.5 · x · (1 + erf(x / √2)), exact GELU.
    @inlinable
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count, Lanes.GELU())
    }

    /// y = tanh(x) = 1 − 2 / (e^{2x} + 1).
    @inlinable
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count, Lanes.Tanh())
    }
}

/// A function applied to eight lanes at once (see `VectorMath.map`).
public protocol LaneFunction {
    func apply(_ v: SIMD8<Float>) -> SIMD8<Float>
}

/// The lane functions behind `VectorMath`'s buffer operations.
public enum Lanes {
    public typealias V = SIMD8<Float>
    public struct Exp: LaneFunction {
        public let shift: Float
        @inlinable public init(shift: Float) { self.shift = shift }
        @inlinable @inline(__always) public func apply(_ v: V) -> V { VectorMath.exp(v - shift) }
    }
    public struct Sigmoid: LaneFunction {
        @inlinable public init() {}
        @inlinable @inline(__always) public func apply(_ v: V) -> V { 1 / (1 + VectorMath.exp(-v)) }
    }
    public struct SiLU: LaneFunction {
        @inlinable public init() {}
        @inlinable @inline(__always) public func apply(_ v: V) -> V { v / (1 + VectorMath.exp(-v)) }
    }
    public struct Erf: LaneFunction {
        @inlinable public init() {}
        @inlinable @inline(__always) public func apply(_ v: V) -> V { VectorMath.erf(v) }
    }
    public struct GELU: LaneFunction {
        @inlinable public init() {}
        @inlinable @inline(__always) public func apply(_ v: V) -> V { 0.5 * v * (1 + VectorMath.erf(v * 0.70710678118654752)) }
    }
    public struct Tanh: LaneFunction {
        @inlinable public init() {}
        @inlinable @inline(__always) public func apply(_ v: V) -> V { 1 - 2 / (VectorMath.exp(2 * v) + 1) }
    }
}
