/// A 64-bit FNV-1a digest, printed as 16 hex digits: identifies the weights and calibration data
/// a database was built from (not a cryptographic hash; it guards against mix-ups, not attacks).
public struct Fingerprint: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    /// An empty digest.
    public init() {}

    /// Adds raw bytes.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = state
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        state = h
    }

    /// Adds the bytes of floats.
    public mutating func add(_ values: [Float]) { values.withUnsafeBytes { add($0) } }

    /// Adds the bytes of integers.
    public mutating func add(_ values: [Int]) { values.withUnsafeBytes { add($0) } }

    /// Adds a string's UTF-8 bytes.
    public mutating func add(_ text: String) { Array(text.utf8).withUnsafeBytes { add($0) } }

    /// The digest as 16 lowercase hex digits.
    public var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
