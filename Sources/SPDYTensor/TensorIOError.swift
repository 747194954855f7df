/// Errors reading or writing tensor files (`.npy`, safetensors). Each names the file.
public struct TensorIOError: Error, CustomStringConvertible, Equatable {
    /// The file (or a description of the source) that was being read or written.
    public var file: String
    /// What was wrong, in words.
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
