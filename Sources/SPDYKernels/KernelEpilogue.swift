/// What happens to a finished output value before a kernel stores it (dense and sparse kernels): `min(max(v + bias[row], lo), hi)`.
/// ReLU is `lo = 0`; Clip is its bounds; no activation leaves both infinite.
public struct KernelEpilogue: @unchecked Sendable {
    public var bias: UnsafePointer<Float>?
    public var lo: Float, hi: Float
    /// Apply exact GELU after the bias (sparse kernels only; then lo/hi are ignored).
    public var gelu: Bool

    public init(bias: UnsafePointer<Float>? = nil, lo: Float = -.infinity, hi: Float = .infinity, gelu: Bool = false) {
        self.bias = bias
        self.lo = lo
        self.hi = hi
        self.gelu = gelu
    }

    /// No bias, no clamp.
    public static let identity = KernelEpilogue()
}
