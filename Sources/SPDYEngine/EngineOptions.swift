import Foundation
import SPDYKernels

/// How a plan is compiled.
public struct EngineOptions: Sendable {
    /// Threads for our kernels and OpenBLAS.
    public var threads: Int
    /// Fold a BatchNormalization that follows a convolution into its weights.
    public var foldBatchNorm: Bool
    /// Fuse activations (Relu, Clip, SiLU) and bias additions into the producing step.
    public var fuse: Bool
    /// Values that must stay observable after a run (no fusion across them): the layer inputs
    /// and outputs a caller wants to capture.
    public var observed: Set<String>
    /// When Conv and Linear layers with pruned weights run on the sparse kernels.
    public var sparseKernels: SparseKernelPolicy
    /// Keep values that only sparse Linear layers and LayerNorms read token-blocked
    /// (`ActivationLayout.tokenBlocked`: no transposes around the sparse layers). On by default;
    /// `SPDY_TOKEN_BLOCKING=0` in the environment turns the default off (for measurements).
    public var tokenBlocking: Bool
    /// Keep convolution activations channel-blocked (NCHW16c) between dense convolutions, pools
    /// and residual sums, and run those convolutions on the direct kernel (`DirectConvolution`,
    /// AVX-512). On by default; `SPDY_CHANNEL_BLOCKING=0` turns the default off (for measurements).
    public var channelBlocking: Bool

    public init(threads: Int = 1, foldBatchNorm: Bool = true, fuse: Bool = true, observed: Set<String> = [],
                sparseKernels: SparseKernelPolicy = .standard, tokenBlocking: Bool = EngineOptions.tokenBlockingDefault,
                channelBlocking: Bool = EngineOptions.channelBlockingDefault) {
        self.threads = threads
        self.foldBatchNorm = foldBatchNorm
        self.fuse = fuse
        self.observed = observed
        self.sparseKernels = sparseKernels
        self.tokenBlocking = tokenBlocking
        self.channelBlocking = channelBlocking
    }

    /// On unless the environment sets `SPDY_TOKEN_BLOCKING=0` (read once).
    public static let tokenBlockingDefault: Bool = getenv("SPDY_TOKEN_BLOCKING").map { String(cString: $0) != "0" } ?? true

    /// Whether plans compiled now run dense convolutions on the direct NCHW16c kernel: channel
    /// blocking on, on x86_64 (AVX-512 or AVX2, whichever `KernelInstructionSet.active` names).
    public var directConvolutions: Bool {
        channelBlocking && DirectConvolution.isAvailable
    }

    /// On unless the environment sets `SPDY_CHANNEL_BLOCKING=0` (read once).
    public static let channelBlockingDefault: Bool = getenv("SPDY_CHANNEL_BLOCKING").map { String(cString: $0) != "0" } ?? true
}

/// How the plan compiler chooses between the dense (OpenBLAS / packed) and the sparse kernel for
/// a Conv or Linear layer with a constant weight.
public enum SparseKernelPolicy: Sendable, Equatable {
    /// Sparse when the weight's density (nonzero fraction) is at most `maximumDensity`.
    case automatic(maximumDensity: Double)
    /// Always dense.
    case never
    /// Sparse for every eligible layer with at least one zero weight (verification, benchmarks).
    case always

    /// The crossover measured with `spdy bench kernels` (docs/sparse-kernels.md): below ~40%
    /// density the sparse kernels beat OpenBLAS on every BERT, MiniLM and ResNet-50 shape.
    public static let standard = SparseKernelPolicy.automatic(maximumDensity: 0.4)

    /// Whether a layer whose weight has `density` runs sparse.
    public func prefersSparse(density: Double) -> Bool {
        switch self {
        case .automatic(let maximum): return density <= maximum
        case .never: return false
        case .always: return density < 1
        }
    }
}

/// Errors running a compiled plan: wrong or missing feeds.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case missingFeed(input: String)
    case unexpectedFeed(input: String, known: [String])
    case feedMismatch(input: String, expected: String, got: String)
    case unknownValue(name: String)

    public var description: String {
        switch self {
        case .missingFeed(let input): return "no value given for model input '\(input)'"
        case let .unexpectedFeed(input, known): return "the model has no input '\(input)' (inputs: \(known.joined(separator: ", ")))"
        case let .feedMismatch(input, expected, got): return "input '\(input)': the plan was compiled for \(expected), got \(got)"
        case .unknownValue(let name): return "value '\(name)' is not observable in this plan (compile with it in `observed`)"
        }
    }
}
