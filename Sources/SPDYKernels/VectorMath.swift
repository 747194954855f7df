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
    @inlinable @inline(__always)
    public static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ f: (V) -> V) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: V.self)
            i += 8
        }
        if i < count {
            var v = V(repeating: 0)
            for j in 0..<(count - i) { v[j] = x[i + j] }
            let r = f(v)
            for j in 0..<(count - i) { y[i + j] = r[j] }
        }
    }

    /// y = e^x.
    @inlinable
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { exp($0) }
    }

    /// y = 1 / (1 + e^-x).
    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { 1 / (1 + exp(-$0)) }
    }

    /// y = x / (1 + e^-x).
    @inlinable
    public static func silu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { $0 / (1 + exp(-$0)) }
    }

    /// y = erf(x).
    @inlinable
    public static func erf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { erf($0) }
    }

    /// y = 0.5 · x · (1 + erf(x / √2)), exact GELU.
    @inlinable
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { 0.5 * $0 * (1 + erf($0 * 0.70710678118654752)) }
    }

    /// y = tanh(x) = 1 − 2 / (e^{2x} + 1).
    @inlinable
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(x, y, count) { 1 - 2 / (exp(2 * $0) + 1) }
    }
}
