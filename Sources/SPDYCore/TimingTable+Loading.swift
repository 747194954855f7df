import Foundation

extension TimingTable {
    /// The file formats a timing table can be read from.
    public enum FileFormat: String, Sendable, CaseIterable {
        /// Our versioned JSON (docs/formats-timing-profile.md).
        case json
        /// The reference implementation's text format.
        case referenceText
    }

    /// Detects the format by content: JSON if the first non-blank character is `{`.
    public static func detectFormat(of data: Data) -> FileFormat {
        for byte in data where !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D) {
            return byte == UInt8(ascii: "{") ? .json : .referenceText
        }
        return .referenceText
    }

    /// Loads a table from a file's bytes in either format (detected by content).
    ///
    /// - Parameters:
    ///   - data: The file's contents.
    ///   - file: The file name used in messages.
    ///   - grid: For the text format: the grid to check levels against (`nil` infers it).
    ///   - policy: For the text format: which defects to repair (JSON tables must be valid).
    public static func load(from data: Data, file: String? = nil, grid: SparsityGrid? = nil,
                            policy: RepairPolicy = .strict) throws(TimingTableError) -> TimingTable
    {
        switch detectFormat(of: data) {
        case .json:
            return try decodeJSON(data, file: file)
        case .referenceText:
            guard let text = String(data: data, encoding: .utf8) else {
                throw TimingTableError(issues: [TimingTableIssue(file: file, kind: .notText)])
            }
            return try parseReferenceText(text, file: file, grid: grid, policy: policy)
        }
    }

    /// Decodes our JSON format and validates the table.
    public static func decodeJSON(_ data: Data, file: String? = nil) throws(TimingTableError) -> TimingTable {
        do {
            return try JSONDecoder().decode(TimingTable.self, from: data)
        } catch let error as TimingTableError {
            throw TimingTableError(issues: error.issues.map { issue in
                var issue = issue
                issue.file = file ?? issue.file
                return issue
            })
        } catch let error as DecodingError {
            throw TimingTableError(issues: [TimingTableIssue(file: file, kind: .invalidJSON(error.readableDescription))])
        } catch {
            throw TimingTableError(issues: [TimingTableIssue(file: file, kind: .invalidJSON("\(error)"))])
        }
    }

    /// Encodes the table as pretty-printed JSON with sorted keys.
    public func encodeJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(self) } catch {
            preconditionFailure("a validated timing table always encodes: \(error)")
        }
    }
}

extension DecodingError {
    /// A one-line explanation with the coding path, e.g. `layers[3].levels: expected Double`.
    var readableDescription: String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "<root>" : text)
        }
        switch self {
        case let .typeMismatch(type, context):
            return "\(path(context.codingPath)): expected \(type) (\(context.debugDescription))"
        case let .valueNotFound(type, context):
            return "\(path(context.codingPath)): missing \(type) value"
        case let .keyNotFound(key, context):
            return "\(path(context.codingPath + [key])): missing key"
        case let .dataCorrupted(context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
