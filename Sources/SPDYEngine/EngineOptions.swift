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

    public init(threads: Int = 1, foldBatchNorm: Bool = true, fuse: Bool = true, observed: Set<String> = []) {
        self.threads = threads
        self.foldBatchNorm = foldBatchNorm
        self.fuse = fuse
        self.observed = observed
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
