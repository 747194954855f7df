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

    @inlinable @inline(__always)
    public static func erf(_ v: V) -> V {
        let bits = unsafeBitCast(v, to: SIMD8<UInt32>.self)
        let a = unsafeBitCast(bits & 0x7FFF_FFFF, to: V.self)
        let t = 1 / (1 + 0.3275911 * a)
        var p = V(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let y = 1 - p * t * exp(-a * a)
        let sign = bits & 0x8000_0000
        return unsafeBitCast(unsafeBitCast(y, to: SIMD8<UInt32>.self) | sign, to: V.self)
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
