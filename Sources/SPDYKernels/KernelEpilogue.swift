/// What happens to a finished output value before a kernel stores it (dense and sparse kernels):
/// `min(max(v + bias[row] + residual, lo), hi)`. ReLU is `lo = 0`; Clip is its bounds; no
/// activation leaves both infinite.
public struct KernelEpilogue: @unchecked Sendable {
    public var bias: UnsafePointer<Float>?
    public var lo: Float, hi: Float
    /// Apply exact GELU after the bias (sparse kernels only; then lo/hi are ignored).
    public var gelu: Bool
    /// A tensor added before the activation (a residual connection), laid out like the output the
    /// kernel is given: the value for output element `y + i · ldy + j` is `residual + i · ldy + j`.
    /// Callers that hand a kernel a sub-block of the output move this pointer with it (`advanced`).
    public var residual: UnsafePointer<Float>?

    public init(bias: UnsafePointer<Float>? = nil, lo: Float = -.infinity, hi: Float = .infinity, gelu: Bool = false,
                residual: UnsafePointer<Float>? = nil) {
        self.bias = bias
        self.lo = lo
        self.hi = hi
        self.gelu = gelu
        self.residual = residual
    }

    /// No bias, no clamp.
    public static let identity = KernelEpilogue()

    /// This epilogue for an output pointer moved by `elements` (the residual moves with it; the
    /// bias, indexed by absolute row, does not).
    @inline(__always)
    public func advanced(by elements: Int) -> KernelEpilogue {
        var e = self
        e.residual = residual.map { $0 + elements }
        return e
    }
}
