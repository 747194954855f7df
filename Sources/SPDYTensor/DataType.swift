/// Element types a `Tensor` can hold. ONNX integer types narrower than 64 bits are stored widened
/// to `Int64` but keep their declared type, so export writes them back unchanged.
public enum DataType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case float32
    case int64
    case int32
    case int8
    case uint8
    case bool

    /// Whether values are stored in the integer storage.
    public var isInteger: Bool {
        switch self {
        case .int64, .int32, .int8, .uint8: return true
        case .float32, .bool: return false
        }
    }

    public var description: String { rawValue }
}
