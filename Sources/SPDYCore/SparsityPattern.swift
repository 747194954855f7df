import Foundation

/// An N:M semi-structured sparsity pattern: in every group of `m` consecutive weights along a
/// layer's reduction dimension, at most `n` are nonzero (2:4 and 4:8 are the patterns sparse
/// tensor cores accelerate). Written and parsed as `"N:M"`.
public struct SparsityPattern: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The weights kept per group.
    public let n: Int
    /// The group size.
    public let m: Int

    /// Errors for strings or numbers that do not describe a pattern.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// The rejected text.
        public var text: String
        /// A readable explanation.
        public var description: String { "invalid N:M pattern '\(text)': expected N:M with 1 ≤ N < M ≤ 64, e.g. 2:4 or 4:8" }
    }

    /// Creates `n:m`; requires `1 ≤ n < m ≤ 64`.
    public init(n: Int, m: Int) throws(ParseError) {
        guard n >= 1, n < m, m <= 64 else { throw ParseError(text: "\(n):\(m)") }
        self.n = n
        self.m = m
    }

    /// Parses `"N:M"` (e.g. `"2:4"`).
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0]), let m = Int(parts[1]) else { throw ParseError(text: text) }
        do { try self.init(n: n, m: m) } catch { throw ParseError(text: text) }
    }

    /// The 2:4 pattern.
    public static let twoOfFour = try! SparsityPattern(n: 2, m: 4)

    /// The fraction of weights a layer at this pattern loses: `1 − n/m`.
    public var sparsity: Double { 1 - Double(n) / Double(m) }

    /// The two-level grid of a database built with this pattern: level 0 dense, level 1 the
    /// pattern (sparsity `1 − n/m`). 2:4 and 4:8 share a grid; the database records the pattern.
    public var grid: SparsityGrid {
        do { return try SparsityGrid(minimum: sparsity, maximum: sparsity, steps: 0) } catch {
            preconditionFailure("1 − n/m is in (0, 1)")
        }
    }

    /// `"2:4"`.
    public var description: String { "\(n):\(m)" }

    /// A file-name-safe form, `"2of4"`.
    public var fileName: String { "\(n)of\(m)" }

    /// Decodes `"N:M"`.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Encodes `"N:M"`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
