/// How a [tokens × features] activation matrix is laid out in memory.
public enum ActivationLayout: Sendable, Equatable {
    /// [tokens × features], row-major: the engine's default (and ONNX's) layout.
    case tokenMajor
    /// [features × rowStride]: feature f of token t at f · rowStride + t (rowStride ≥ tokens).
    /// What the sparse kernels multiply: values produced and read only by sparse Linear layers
    /// and fused attention stay this way, and nobody transposes them.
    case featureMajor(rowStride: Int)
    /// Tokens in blocks of `width`, each block a feature-major [features × width] tile, blocks
    /// one after another: feature f of token t at (t / width) · width · features + f · width + t mod width.
    /// A block is exactly the packed tile the sparse Linear kernel multiplies, so sparse layers
    /// read it in place and write their products straight into it, and a LayerNorm normalises a
    /// block column by column (`TokenBlockLayerNorm`). A last partial block is allocated whole;
    /// its padding columns hold garbage nobody reads as output.
    case tokenBlocked(width: Int)

    /// The row stride for `tokens` tokens feature-major: padded by one cache line, because rows a
    /// power of two apart (1024 tokens: 4 KiB) fall into the same few cache sets when a kernel
    /// reads a tile from every row.
    public static func paddedRowStride(tokens: Int) -> Int { tokens + 16 }

    /// The token block width for this process's sparse kernels: their widest column tile
    /// (128 with AVX-512, 64 with AVX2), so a block is one tile.
    public static var blockWidth: Int { SparseMatrix.instructionSet == .avx512 ? 128 : 64 }

    public var isFeatureMajor: Bool {
        if case .featureMajor = self { return true }
        return false
    }

    /// The block width of a `tokenBlocked` layout, nil for the others.
    public var tokenBlockWidth: Int? {
        if case .tokenBlocked(let w) = self { return w }
        return nil
    }

    /// A short tag for plan listings: "" (token-major), "fm" or "blocked".
    public var tag: String {
        switch self {
        case .tokenMajor: return ""
        case .featureMajor: return "fm"
        case .tokenBlocked: return "blocked"
        }
    }

    /// Floats a matrix of `tokens` × `features` takes in this layout.
    public func storage(tokens: Int, features: Int) -> Int {
        switch self {
        case .tokenMajor: return tokens * features
        case .featureMajor(let ld): return features * ld
        case .tokenBlocked(let w): return (tokens + w - 1) / w * w * features
        }
    }

    /// Element offset of (token, feature) in a matrix with `features` columns.
    public func offset(token: Int, feature: Int, features: Int) -> Int {
        switch self {
        case .tokenMajor: return token * features + feature
        case .featureMajor(let ld): return feature * ld + token
        case .tokenBlocked(let w): return token / w * w * features + feature * w + token % w
        }
    }

    /// A token-major [tokens × features] matrix stored in this layout; elements no token
    /// occupies (row or block padding) are `padding`. For tests and tools, not hot paths.
    public func arrange(_ x: [Float], tokens: Int, features: Int, padding: Float = .nan) -> [Float] {
        precondition(x.count == tokens * features, "\(x.count) values for \(tokens) × \(features)")
        var y = [Float](repeating: padding, count: storage(tokens: tokens, features: features))
        for t in 0..<tokens { for f in 0..<features { y[offset(token: t, feature: f, features: features)] = x[t * features + f] } }
        return y
    }

    /// The token-major [tokens × features] matrix stored as `y` in this layout.
    public func tokenMajorMatrix(_ y: [Float], tokens: Int, features: Int) -> [Float] {
        precondition(y.count >= storage(tokens: tokens, features: features), "\(y.count) values stored for \(tokens) × \(features)")
        var x = [Float](repeating: 0, count: tokens * features)
        for t in 0..<tokens { for f in 0..<features { x[t * features + f] = y[offset(token: t, feature: f, features: features)] } }
        return x
    }

    /// Element strides (token, feature) of a matrix with `features` columns; for `tokenBlocked`,
    /// the strides within one block.
    public func strides(features: Int) -> (token: Int, feature: Int) {
        switch self {
        case .tokenMajor: return (features, 1)
        case .featureMajor(let ld): return (1, ld)
        case .tokenBlocked(let w): return (1, w)
        }
    }
}
