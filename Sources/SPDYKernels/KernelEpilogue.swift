/// What happens to a finished output value before a kernel stores it (dense and sparse kernels): `min(max(v + bias[row], lo), hi)`.
/// ReLU is `lo = 0`; Clip is its bounds; no activation leaves both infinite.
public struct KernelEpilogue: @unchecked Sendable {
    public var bias: UnsafePointer<Float>?
    public var lo: Float, hi: Float

    public init(bias: UnsafePointer<Float>? = nil, lo: Float = -.infinity, hi: Float = .infinity) {
        self.bias = bias
        self.lo = lo
        self.hi = hi
    }

    /// No bias, no clamp.
    public static let identity = KernelEpilogue()
}
