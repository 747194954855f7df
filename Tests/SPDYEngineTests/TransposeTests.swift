import Testing
import SPDYKernels

/// `Transpose.block` against the definition, over full 8×8 blocks, ragged edges and padded
/// leading dimensions.
struct TransposeTests {
    @Test(arguments: [(1, 1), (8, 8), (7, 9), (16, 24), (33, 67), (128, 384), (5, 0)])
    func blockEqualsDefinition(rows: Int, columns: Int) {
        let ld = columns + 3, dstLD = rows + 5
        let src = (0..<(rows * ld)).map { Float($0) * 0.5 - 7 }
        var dst = [Float](repeating: -1, count: max(columns * dstLD, 1))
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                Transpose.block(s.baseAddress!, ld: ld, rows: rows, columns: columns, into: d.baseAddress!, ld: dstLD)
            }
        }
        var wrong = 0
        for c in 0..<columns {
            for r in 0..<dstLD {
                let want = r < rows ? src[r * ld + c] : -1
                if dst[c * dstLD + r] != want { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }
}
