/// Whole products Y = A · X with a `SparseMatrix`, split into column tiles (so the X slices a
/// tile reads stay in cache while every row of A passes over them) and, when there are too few
/// tiles to keep every thread busy, into row chunks as well.
extension SparseMatrix {
    /// Default columns per packed tile: 64 columns × up to ~1000 X rows stay within L2.
    public static let defaultTileWidth = 64

    /// Columns per packed tile for a product of depth `depth`: narrower tiles for deep products
    /// so that the packed X tile (depth × width floats) stays within L2.
    public static func tileWidth(depth: Int) -> Int { depth * 64 * 4 <= 256 * 1024 ? 64 : 32 }

    /// Scratch floats one thread needs for `multiply` (one packed X tile).
    public static func scratchPerThread(depth: Int, tileWidth: Int) -> Int { depth * tileWidth }

    /// Y[rows × n] = epilogue(A · X) for X [depth × n] with leading dimension `ldx`; A must have
    /// been built with `ldx: tileWidth` (the packed tile's row length). Each tile of X columns is
    /// copied into a contiguous [depth × tileWidth] block of `scratch` first: X rows of real
    /// activations are often a power of two apart, which maps them onto a few cache sets and
    /// a new page each; packed, a tile is dense and stays in L2 while every row of A passes over it.
    /// `scratch` holds `scratchPerThread(depth:tileWidth:) × pool.threads` floats.
    public func multiply(n: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                         epilogue: KernelEpilogue, pool: ThreadPool, tileWidth: Int,
                         scratch: UnsafeMutablePointer<Float>) {
        let tiles = ColumnTiles(count: n, width: tileWidth)
        guard tiles.count > 0, rows > 0 else { return }
        let chunks = rowChunks(tiles: tiles.count, threads: pool.threads)
        let depth = self.depth
        pool.parallelChunks(tiles.count * chunks) { thread, items in
            let packed = scratch + thread * depth * tileWidth
            var packedTile = -1
            for item in items {
                let tile = item / chunks, columns = tiles[tile], rows = self.rowChunk(item % chunks, of: chunks)
                if packedTile != tile {
                    for k in 0..<depth {
                        (packed + k * tileWidth).update(from: x + k * ldx + columns.lowerBound, count: columns.count)
                    }
                    packedTile = tile
                }
                self.multiplyTile(rows: rows, x: packed, width: columns.count,
                                  y: y + rows.lowerBound * ldy + columns.lowerBound, ldy: ldy, epilogue: epilogue)
            }
        }
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
public struct ColumnTiles: Sendable {
    public let total: Int, width: Int
    public let count: Int

    public init(count total: Int, width: Int) {
        self.total = total
        self.width = width
        count = (total + width - 1) / width
    }

    public subscript(_ i: Int) -> Range<Int> {
        let hi = min(total, (i + 1) * width)
        var lo = i * width
        if hi - lo < 8 && total >= 8 { lo = hi - 8 }
        return lo..<hi
    }
}
