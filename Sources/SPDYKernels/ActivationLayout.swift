/// How a [tokens × features] activation matrix is laid out in memory.
public enum ActivationLayout: Sendable, Equatable {
    /// [tokens × features], row-major: the engine's default (and ONNX's) layout.
    case tokenMajor
    /// [features × rowStride]: feature f of token t at f · rowStride + t (rowStride ≥ tokens).
    /// What the sparse kernels multiply: values produced and read only by sparse Linear layers
    /// and fused attention stay this way, and nobody transposes them.
    case featureMajor(rowStride: Int)

    /// The row stride for `tokens` tokens feature-major: padded by one cache line, because rows a
    /// power of two apart (1024 tokens: 4 KiB) fall into the same few cache sets when a kernel
    /// reads a tile from every row.
    public static func paddedRowStride(tokens: Int) -> Int { tokens + 16 }

    public var isFeatureMajor: Bool {
        if case .featureMajor = self { return true }
        return false
    }

    /// Floats a matrix of `tokens` × `features` takes in this layout.
    public func storage(tokens: Int, features: Int) -> Int {
        switch self {
        case .tokenMajor: return tokens * features
        case .featureMajor(let ld): return features * ld
        }
    }

    /// Element strides (token, feature) of a matrix with `features` columns.
    public func strides(features: Int) -> (token: Int, feature: Int) {
        switch self {
        case .tokenMajor: return (features, 1)
        case .featureMajor(let ld): return (1, ld)
        }
    }
}
