import Foundation
import SPDYTensor

/// BERT's tokenizer: basic tokenisation (clean control characters, isolate CJK ideographs,
/// optionally strip accents and lowercase, split on whitespace and punctuation) followed by
/// greedy longest-match-first WordPiece over `vocab.txt`, then `[CLS] A [SEP]` (or
/// `[CLS] A [SEP] B [SEP]` with token type 1 for B), truncation and padding.
///
/// Matches Hugging Face `BertTokenizer` / the `tokenizers` BertNormalizer + BertPreTokenizer +
/// WordPiece pipeline (no NFKC: full-width letters are not folded, as there).
public struct BERTTokenizer: Sendable {
    /// How a batch is padded.
    public enum Padding: Sendable, Equatable {
        /// To the longest encoding in the batch.
        case longest
        /// To exactly this length (encodings are truncated to `min(maxLength, n)` first).
        case fixed(Int)
    }

    /// One encoded text (or pair), before padding.
    public struct Encoding: Sendable, Equatable {
        /// Token ids with the special tokens.
        public var ids: [Int]
        /// 0 for the first segment (with `[CLS]` and its `[SEP]`), 1 for the second.
        public var typeIDs: [Int]
    }

    /// Tokens by id (the lines of `vocab.txt`).
    public let tokens: [String]
    /// Ids by token.
    public let vocabulary: [String: Int]
    /// Lowercase the text (`do_lower_case`).
    public var lowercase: Bool
    /// Remove combining marks after NFD decomposition (`strip_accents`; by default = `lowercase`).
    public var stripAccents: Bool
    /// Put spaces around CJK ideographs (`tokenize_chinese_chars`).
    public var isolateCJK: Bool
    /// The longest encoding, special tokens included (sentence-transformers' `max_seq_length`).
    public var maxLength: Int
    /// Words longer than this many characters become `[UNK]`.
    public var maxInputCharsPerWord = 100
    /// Ids of the special tokens `[CLS]`, `[SEP]`, `[PAD]` and `[UNK]` in this vocabulary.
    public let clsID: Int, sepID: Int, padID: Int, unkID: Int

    /// A tokenizer over `tokens` (index = id), which must contain the special tokens.
    public init(tokens: [String], lowercase: Bool = true, stripAccents: Bool? = nil, isolateCJK: Bool = true,
                maxLength: Int = 512, source: String = "vocab.txt") throws {
        guard !tokens.isEmpty else { throw BERTImportError.badVocabulary(file: source, reason: "empty vocabulary") }
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where vocabulary[token] == nil { vocabulary[token] = id }
        func special(_ token: String) throws -> Int {
            guard let id = vocabulary[token] else {
                throw BERTImportError.badVocabulary(file: source, reason: "special token \(token) is missing")
            }
            return id
        }
        guard maxLength >= 2 else {
            throw BERTImportError.badConfig(file: source, key: "max_length", reason: "must be at least 2 ([CLS] and [SEP]), found \(maxLength)")
        }
        self.tokens = tokens
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
        self.isolateCJK = isolateCJK
        self.maxLength = maxLength
        self.clsID = try special("[CLS]")
        self.sepID = try special("[SEP]")
        self.padID = try special("[PAD]")
        self.unkID = try special("[UNK]")
    }

    /// Reads `vocab.txt` and the options in `tokenizer_config.json` (`do_lower_case`,
    /// `strip_accents`, `tokenize_chinese_chars`, `model_max_length`) from a Hugging Face folder;
    /// `sentence_bert_config.json`'s `max_seq_length`, when present, sets `maxLength` (as
    /// sentence-transformers does). `maxLength` overrides both.
    public init(folder: URL, maxLength: Int? = nil) throws {
        let vocabURL = folder.appendingPathComponent("vocab.txt")
        let text: String
        do { text = try String(contentsOf: vocabURL, encoding: .utf8) } catch {
            throw BERTImportError.unreadableFile(file: vocabURL.path, reason: "cannot read: \(error.localizedDescription)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        func json(_ name: String) -> [String: Any] {
            guard let data = try? Data(contentsOf: folder.appendingPathComponent(name)),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            return object
        }
        let config = json("tokenizer_config.json")
        let lowercase = (config["do_lower_case"] as? Bool) ?? true
        let strip = config["strip_accents"] as? Bool
        let cjk = (config["tokenize_chinese_chars"] as? Bool) ?? true
        var length = (config["model_max_length"] as? NSNumber).map { Swift.min($0.doubleValue, 1e9) }.map { Int($0) } ?? 512
        if let st = json("sentence_bert_config.json")["max_seq_length"] as? NSNumber { length = st.intValue }
        try self.init(tokens: lines, lowercase: lowercase, stripAccents: strip, isolateCJK: cjk,
                      maxLength: maxLength ?? length, source: vocabURL.path)
    }

    // MARK: Encoding

    /// The encoding of `text` (and `pair`, as the second segment), truncated to `maxLength`
    /// (longest segment first for pairs).
    public func encode(_ text: String, pair: String? = nil) -> Encoding {
        var a = tokenIDs(text)
        if let pair {
            var b = tokenIDs(pair)
            let budget = Swift.max(maxLength - 3, 0)
            while a.count + b.count > budget {
                if a.count > b.count { a.removeLast() } else { b.removeLast() }
            }
            return Encoding(ids: [clsID] + a + [sepID] + b + [sepID],
                            typeIDs: [Int](repeating: 0, count: a.count + 2) + [Int](repeating: 1, count: b.count + 1))
        }
        if a.count > maxLength - 2 { a.removeLast(a.count - (maxLength - 2)) }
        return Encoding(ids: [clsID] + a + [sepID], typeIDs: [Int](repeating: 0, count: a.count + 2))
    }

    /// The model inputs for `texts` (each optionally paired with `pairs[i]`): `input_ids`,
    /// `attention_mask` (1 for tokens, 0 for padding) and `token_type_ids`, int64 `[batch, length]`,
    /// padded on the right with `[PAD]`.
    public func batch(_ texts: [String], pairs: [String]? = nil, padding: Padding = .longest) -> [String: Tensor] {
        precondition(pairs == nil || pairs!.count == texts.count, "pairs must match texts one to one")
        var encodings = texts.indices.map { encode(texts[$0], pair: pairs?[$0]) }
        let length: Int
        switch padding {
        case .longest: length = encodings.map(\.ids.count).max() ?? 0
        case .fixed(let n):
            precondition(n >= 2, "fixed padding length must be at least 2")
            length = n
            for i in encodings.indices where encodings[i].ids.count > n {
                // Keep the final [SEP] when a fixed length is shorter than maxLength.
                encodings[i].ids = Array(encodings[i].ids.prefix(n - 1)) + [sepID]
                encodings[i].typeIDs = Array(encodings[i].typeIDs.prefix(n))
            }
        }
        var ids: [Int64] = [], mask: [Int64] = [], types: [Int64] = []
        ids.reserveCapacity(texts.count * length)
        for e in encodings {
            let pad = length - e.ids.count
            ids += e.ids.map(Int64.init) + [Int64](repeating: Int64(padID), count: pad)
            mask += [Int64](repeating: 1, count: e.ids.count) + [Int64](repeating: 0, count: pad)
            types += e.typeIDs.map(Int64.init) + [Int64](repeating: 0, count: pad)
        }
        let shape = [texts.count, length]
        return ["input_ids": Tensor(shape: shape, integers: ids),
                "attention_mask": Tensor(shape: shape, integers: mask),
                "token_type_ids": Tensor(shape: shape, integers: types)]
    }

    /// The WordPiece ids of `text` without special tokens.
    public func tokenIDs(_ text: String) -> [Int] {
        basicTokens(text).flatMap(wordPieces)
    }

    /// The WordPiece strings of `text` without special tokens (for display and tests).
    public func tokenStrings(_ text: String) -> [String] {
        tokenIDs(text).map { tokens[$0] }
    }

    // MARK: Basic tokenisation

    /// Normalised words and punctuation marks of `text`.
    public func basicTokens(_ text: String) -> [String] {
        // Clean: drop NUL, U+FFFD and control characters; map whitespace to a space; isolate CJK.
        var cleaned = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
            if Self.isWhitespace(s) { cleaned.append(" "); continue }
            if isolateCJK && Self.isCJK(s) {
                cleaned.append(" "); cleaned.append(s); cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
        }
        var normalised = String(cleaned)
        if stripAccents {
            var kept = String.UnicodeScalarView()
            for s in normalised.decomposedStringWithCanonicalMapping.unicodeScalars
            where s.properties.generalCategory != .nonspacingMark { kept.append(s) }
            normalised = String(kept)
        }
        if lowercase { normalised = normalised.lowercased() }
        // Split on whitespace, isolating punctuation.
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
        }
        for s in normalised.unicodeScalars {
            if Self.isWhitespace(s) {
                flush()
            } else if Self.isPunctuation(s) {
                flush()
                words.append(String(s))
            } else {
                current.append(s)
            }
        }
        flush()
        return words
    }

    /// Greedy longest-match-first WordPiece ids of one word; `[UNK]` when any part has no match
    /// or the word is longer than `maxInputCharsPerWord`.
    public func wordPieces(_ word: String) -> [Int] {
        let scalars = Array(word.unicodeScalars)
        if scalars.count > maxInputCharsPerWord { return [unkID] }
        var pieces: [Int] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int? = nil
            while start < end {
                var piece = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { piece = "##" + piece }
                if let id = vocabulary[piece] { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unkID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }

    // MARK: Character classes (as in BERT's reference tokenizer)

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}
