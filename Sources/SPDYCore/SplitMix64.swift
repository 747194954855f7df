/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator whose whole state is
/// one `UInt64`, so it can be saved and restored exactly (``SearchState`` stores it).
///
/// All of SPDYCore's randomness goes through explicit generators; the helpers below
/// (``nextUnitDouble()``, ``nextIndex(below:)``) are defined here, not by the standard library,
/// so a seed gives the same stream on every platform and Swift version.
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable, Codable {
    /// The generator's complete state.
    public var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform integer in `0..<bound` (Lemire's multiply-shift with rejection; unbiased).
    public mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "the bound must be positive")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }
}
