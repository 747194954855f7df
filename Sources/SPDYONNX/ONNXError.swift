/// An error reading or writing an ONNX file. Every error names the file (or the source given to
/// `decode`) and reads as a complete message.
public struct ONNXError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The broad class of problem, for callers that branch on it.
    public enum Kind: String, Sendable, Equatable {
        /// The bytes are not a well-formed ONNX protobuf (truncated, corrupted).
        case malformed
        /// Well-formed, but inconsistent (sizes that disagree, negative dims, duplicate names …).
        case invalid
        /// Valid ONNX that this importer does not handle (a data type, attribute type, external data …).
        case unsupported
        /// The file could not be read or written.
        case io
    }

    /// The class of problem.
    public var kind: Kind
    /// The file (or the source description passed to `decode`).
    public var file: String
    /// What was wrong, naming the initializer, node, attribute or value concerned.
    public var reason: String

    /// Creates an error; `reason` should name the offending element.
    public init(_ kind: Kind, file: String, reason: String) {
        self.kind = kind
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(kind == .unsupported ? "unsupported: " : "")\(reason)" }
}
