/// Per-thread scratch memory, 64-byte aligned (so packed tiles start on a cache line).
public final class ThreadScratch: @unchecked Sendable {
    public let floatsPerThread: Int
    let base: UnsafeMutablePointer<Float>

    public init(floatsPerThread: Int, threads: Int) {
        self.floatsPerThread = (max(1, floatsPerThread) + 15) / 16 * 16
        let count = self.floatsPerThread * max(1, threads)
        base = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        base.initialize(repeating: 0, count: count)
    }

    deinit { base.deallocate() }

    /// Thread chunk `chunk`'s scratch.
    public subscript(_ chunk: Int) -> UnsafeMutablePointer<Float> { base + chunk * floatsPerThread }
}

/// A linear layer with a sparse weight: Y[N × M] = X[N × K] · Wᵀ + bias, activations row-major
/// (tokens × features) as the engine keeps them, W as [M × K] (output features × input features).
///
/// The kernel needs the dimension it vectorises over (tokens) contiguous, so each tile of tokens
/// is transposed into a packed [K × tile] block, multiplied into a [M × tile] block (epilogue
/// fused) and transposed back into Y. Tiles run in parallel; with too few tiles for the threads,
/// output features are split as well.
public final class SparseLinear: @unchecked Sendable {
    public let inFeatures: Int, outFeatures: Int
    public let matrix: SparseMatrix
    public let tileWidth: Int
    let scratch: ThreadScratch

    /// `weight` is [outFeatures × inFeatures] row-major (`transposed: true` when it is stored
    /// [inFeatures × outFeatures], as ONNX MatMul weights are).
    public init(weight: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int, transposed: Bool, threads: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let tw = SparseMatrix.tileWidth(depth: inFeatures)
        tileWidth = tw
        if transposed {
            var rows = [Float](repeating: 0, count: inFeatures * outFeatures)
            for k in 0..<inFeatures { for m in 0..<outFeatures { rows[m * inFeatures + k] = weight[k * outFeatures + m] } }
            matrix = rows.withUnsafeBufferPointer {
                SparseMatrix(rows: outFeatures, depth: inFeatures, a: $0.baseAddress!, lda: inFeatures, ldx: tw)
            }
        } else {
            matrix = SparseMatrix(rows: outFeatures, depth: inFeatures, a: weight, lda: inFeatures, ldx: tileWidth)
        }
        scratch = ThreadScratch(floatsPerThread: (inFeatures + outFeatures) * tileWidth, threads: threads)
    }

    deinit { matrix.deallocate() }

    /// Y[n × outFeatures] = epilogue(X[n × inFeatures] · Wᵀ); `epilogue.bias` is per output feature.
    public func run(n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue,
                    pool: ThreadPool) {
        let tiles = ColumnTiles(count: n, width: tileWidth)
        guard tiles.count > 0 else { return }
        let chunks = matrix.rowChunks(tiles: tiles.count, threads: pool.threads)
        let (k, m, tw) = (inFeatures, outFeatures, tileWidth)
        pool.parallelChunks(tiles.count * chunks) { thread, items in
            let packed = self.scratch[thread], product = packed + k * tw
            var packedTile = -1
            for item in items {
                let tile = item / chunks, tokens = tiles[tile], rows = self.matrix.rowChunk(item % chunks, of: chunks)
                let w = tokens.count
                if packedTile != tile {
                    Transpose.block(x + tokens.lowerBound * k, ld: k, rows: w, columns: k, into: packed, ld: tw)
                    packedTile = tile
                }
                self.matrix.multiplyTile(rows: rows, x: packed, width: w, y: product, ldy: tw, epilogue: epilogue)
                Transpose.block(product, ld: tw, rows: rows.count, columns: w,
                                into: y + tokens.lowerBound * m + rows.lowerBound, ld: m)
            }
        }
    }
}

/// Out-of-place transposes of row-major blocks.
public enum Transpose {
    /// dst[c][r] = src[r][c] for r < rows, c < columns (leading dimensions `ld`), in 8×8 blocks
    /// so both sides are walked a cache line at a time.
    public static func block(_ src: UnsafePointer<Float>, ld: Int, rows: Int, columns: Int,
                             into dst: UnsafeMutablePointer<Float>, ld dstLD: Int) {
        typealias V = SIMD8<Float>
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + 8)
            var c0 = 0
            if r1 - r0 == 8 {
                // Full 8-row strips: eight vector loads per 8×8 block, columns gathered from them.
                while c0 + 8 <= columns {
                    let s = src + r0 * ld + c0
                    let a0 = UnsafeRawPointer(s).loadUnaligned(as: V.self)
                    let a1 = UnsafeRawPointer(s + ld).loadUnaligned(as: V.self)
                    let a2 = UnsafeRawPointer(s + 2 * ld).loadUnaligned(as: V.self)
                    let a3 = UnsafeRawPointer(s + 3 * ld).loadUnaligned(as: V.self)
                    let a4 = UnsafeRawPointer(s + 4 * ld).loadUnaligned(as: V.self)
                    let a5 = UnsafeRawPointer(s + 5 * ld).loadUnaligned(as: V.self)
                    let a6 = UnsafeRawPointer(s + 6 * ld).loadUnaligned(as: V.self)
                    let a7 = UnsafeRawPointer(s + 7 * ld).loadUnaligned(as: V.self)
                    let d = dst + c0 * dstLD + r0
                    for c in 0..<8 {
                        let column = V(a0[c], a1[c], a2[c], a3[c], a4[c], a5[c], a6[c], a7[c])
                        UnsafeMutableRawPointer(d + c * dstLD).storeBytes(of: column, as: V.self)
                    }
                    c0 += 8
                }
            }
            while c0 < columns {
                let c1 = min(columns, c0 + 8)
                for r in r0..<r1 {
                    let s = src + r * ld
                    for c in c0..<c1 { dst[c * dstLD + r] = s[c] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}
