/// Evaluates a candidate profile: stitches the pruned model and returns its calibration loss
/// (lower is better). The search calls it once per distinct profile (results are memoised).
///
/// An oracle should be deterministic for the search to be reproducible; it may throw (e.g. I/O),
/// which stops the search with a state that can be resumed.
public protocol LossOracle {
    /// The loss of the model pruned to `profile` (levels of every table layer, excluded layers dense).
    func loss(of profile: Profile) throws -> Double
}

/// A loss oracle from a closure.
public struct ClosureLossOracle: LossOracle {
    /// The closure that computes the loss.
    public let body: (Profile) throws -> Double

    /// Wraps `body`.
    public init(_ body: @escaping (Profile) throws -> Double) { self.body = body }

    /// Calls the closure.
    public func loss(of profile: Profile) throws -> Double { try body(profile) }
}
