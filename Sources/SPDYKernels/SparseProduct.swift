/// How `SparseLinear` and `SparseConvolution` cut a product into work items: column tiles (so
/// the packed input a tile reads stays in cache while every row of A passes over it) and, when
/// there are too few tiles to keep every thread busy, row chunks as well.
extension SparseMatrix {
    /// Columns per packed tile for a product of depth `depth`: narrower tiles for deep products
    /// so that the packed X tile (depth × width floats) stays within L2; 128 with AVX-512 (eight
    /// 16-lane accumulators per nonzero) while the tile stays within 512 KiB.
    public static func tileWidth(depth: Int) -> Int {
        tileWidth { depth * $0 }
    }

    /// The widest tile whose packed block (`blockFloats(width)` floats) fits the same budget:
    /// 128 columns within 512 KiB (AVX-512), 64 within 256 KiB, else 32.
    public static func tileWidth(blockFloats: (Int) -> Int) -> Int {
        if instructionSet == .avx512, blockFloats(128) * 4 <= 512 * 1024 { return 128 }
        return blockFloats(64) * 4 <= 256 * 1024 ? 64 : 32
    }

    /// Row chunks per tile so that there are at least two work items per thread.
    public func rowChunks(tiles: Int, threads: Int) -> Int {
        guard threads > 1, tiles < 2 * threads else { return 1 }
        return max(1, min(rows / 8, (2 * threads + tiles - 1) / tiles))
    }

    /// Rows of chunk `chunk` of `chunks`, cut so that chunks hold about the same number of nonzeros.
    public func rowChunk(_ chunk: Int, of chunks: Int) -> Range<Int> {
        if chunks == 1 { return 0..<rows }
        func boundary(_ c: Int) -> Int {
            if c == 0 { return 0 }
            if c == chunks { return rows }
            let target = nonzeros * c / chunks
            var lo = 0, hi = rows
            while lo < hi {  // first row whose start reaches the target
                let mid = (lo + hi) / 2
                if rowStart[mid] < target { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        return boundary(chunk)..<max(boundary(chunk), boundary(chunk + 1))
    }
}

/// Column tiles of `width` over `0..<count`. A last tile narrower than one vector (8) starts
/// earlier, overlapping its neighbour, so kernels never fall back to scalar code when `count ≥ 8`
/// (recomputing a few columns is harmless: outputs do not depend on what was stored before).
///
/// With `padded` (token-blocked activations, whose last block is allocated whole) a last tile
/// narrower than 8 is widened forward into the padding instead, so no tile leaves its block.
public struct ColumnTiles: Sendable {
    public let total: Int, width: Int
    public let count: Int
    public let padded: Bool

    public init(count total: Int, width: Int, padded: Bool = false) {
        self.total = total
        self.width = width
        self.padded = padded
        count = (total + width - 1) / width
    }

    public subscript(_ i: Int) -> Range<Int> {
        var hi = min(total, (i + 1) * width)
        var lo = i * width
        if hi - lo < 8 {
            if padded { hi = lo + min(8, width) } else if total >= 8 { lo = hi - 8 }
        }
        return lo..<hi
    }
}
