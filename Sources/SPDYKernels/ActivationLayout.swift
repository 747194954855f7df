/// How a [tokens × features] activation matrix is laid out in memory.
public enum ActivationLayout: Sendable, Equatable {
    /// [tokens × features], row-major: the engine's default (and ONNX's) layout.
    case tokenMajor
    /// [features × tokens]: what the sparse kernels multiply. Values produced and read only by
    /// sparse Linear layers and fused attention stay this way, and nobody transposes them.
    case featureMajor

    /// Element strides (token, feature) of a matrix of `tokens` rows and `features` columns.
    public func strides(tokens: Int, features: Int) -> (token: Int, feature: Int) {
        self == .tokenMajor ? (features, 1) : (1, tokens)
    }
}
