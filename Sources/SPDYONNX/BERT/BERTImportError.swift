/// Problems importing a Hugging Face BERT-family folder. Each case names the file and, where it
/// applies, the tensor or config key, so the message alone says what to fix.
public enum BERTImportError: Error, Equatable, CustomStringConvertible {
    /// A required file is absent or unreadable.
    case unreadableFile(file: String, reason: String)
    /// `config.json` is malformed, lacks a key, or has a value we cannot use.
    case badConfig(file: String, key: String, reason: String)
    /// The architecture (model_type, activation, position embedding type …) is not supported.
    case unsupported(file: String, feature: String, value: String, supported: [String])
    /// A weight the config requires is not in the checkpoint.
    case missingTensor(file: String, tensor: String)
    /// A weight has a shape the config does not allow.
    case tensorShape(file: String, tensor: String, expected: [Int], found: [Int])
    /// A weight has an element type we cannot use (e.g. an integer embedding table).
    case tensorType(file: String, tensor: String, expected: String, found: String)
    /// `vocab.txt` is unusable (empty, duplicate tokens, missing special tokens).
    case badVocabulary(file: String, reason: String)
    /// The graph has no value the caller named (e.g. appending a head to a missing output).
    case noSuchValue(graph: String, value: String)

    public var description: String {
        switch self {
        case let .unreadableFile(file, reason): return "\(file): \(reason)"
        case let .badConfig(file, key, reason): return "\(file): key '\(key)': \(reason)"
        case let .unsupported(file, feature, value, supported):
            return "\(file): unsupported \(feature) '\(value)' (supported: \(supported.joined(separator: ", ")))"
        case let .missingTensor(file, tensor): return "\(file): missing tensor '\(tensor)'"
        case let .tensorShape(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' has shape \(found), the config requires \(expected)"
        case let .tensorType(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' is \(found), expected \(expected)"
        case let .badVocabulary(file, reason): return "\(file): \(reason)"
        case let .noSuchValue(graph, value): return "graph '\(graph)' has no value '\(value)'"
        }
    }
}
