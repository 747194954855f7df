import Foundation
import SPDYKernels

/// An activation fused into the step that produces its input.
public enum Activation: Sendable, Equatable, CustomStringConvertible {
    case none
    case relu
    case clip(Float, Float)
    /// Exact GELU: x · Φ(x) = 0.5 · x · (1 + erf(x / √2)).
    case gelu

    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .gelu: return 0.5 * x * (1 + erf(x * 0.70710678118654752))
        case .relu: return max(x, 0)
        case .clip(let lo, let hi): return min(max(x, lo), hi)
        }
    }

    /// The activation as clamp bounds, for kernels that fuse a clamp into their stores (nil for GELU).
    var clampBounds: (lo: Float, hi: Float)? {
        switch self {
        case .none: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .clip(let lo, let hi): return (lo, hi)
        case .gelu: return nil
        }
    }

    /// This activation after `bias` as a kernel epilogue. GELU sets the epilogue's `gelu` flag,
    /// which only the sparse kernels honour: dense kernels check `clampBounds` first.
    func epilogue(bias: UnsafePointer<Float>?) -> KernelEpilogue {
        let (lo, hi) = clampBounds ?? (-.infinity, .infinity)
        return KernelEpilogue(bias: bias, lo: lo, hi: hi, gelu: self == .gelu)
    }

    public var description: String {
        switch self {
        case .none: return ""
        case .relu: return "+Relu"
        case .gelu: return "+GELU"
        case .clip(let lo, let hi): return "+Clip(\(lo),\(hi))"
        }
    }
}

/// Adds a per-row bias (row = outer index over `rows`, each of `width` elements) and applies an
/// activation, in place.
@inline(__always)
func addBiasAndActivate(_ data: UnsafeMutablePointer<Float>, rows: Range<Int>, width: Int,
                        bias: UnsafePointer<Float>?, biasIndex: (Int) -> Int, activation: Activation) {
    for r in rows {
        let row = data + r * width
        let b = bias.map { $0[biasIndex(r)] } ?? 0
        if let (lo, hi) = activation.clampBounds {
            if b != 0 || activation != .none { VectorMath.addScalar(row, b, row, count: width, lo: lo, hi: hi) }
        } else {
            if b != 0 { VectorMath.addScalar(row, b, row, count: width) }
            VectorMath.gelu(row, row, count: width)
        }
    }
}
