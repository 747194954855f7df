/// A linear layer with a sparse weight: Y[N × M] = X[N × K] · Wᵀ + bias, W as [M × K] (output
/// features × input features), activations in the layouts given at construction
/// (`ActivationLayout`; token-major, as ONNX has them, by default).
///
/// The kernel needs the dimension it vectorises over (tokens) contiguous, so each tile of tokens
/// must be a feature-major [K × tile] block. A token-blocked X already is one: the kernel reads it
/// in place (deep layers, whose tiles are narrower than a block, copy theirs). A token-major X tile is transposed into a packed block, a feature-major one packed by
/// row copies. The [M × tile] product is written straight into a feature-major or token-blocked
/// Y, or transposed back into a token-major one; the epilogue is fused. Tiles run in parallel;
/// with too few tiles for the threads, output features are split as well.
public final class SparseLinear: @unchecked Sendable {
    public let inFeatures: Int, outFeatures: Int
    public let matrix: SparseMatrix
    public let tileWidth: Int
    /// Layouts of X and Y.
    public let input: ActivationLayout, output: ActivationLayout
    /// Whether X tiles are token blocks read in place (else they are packed into scratch).
    public let readsInPlace: Bool
    let scratch: ThreadScratch

    /// `weight` is [outFeatures × inFeatures] row-major (`transposed: true` when it is stored
    /// [inFeatures × outFeatures], as ONNX MatMul weights are).
    public init(weight: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int, transposed: Bool, threads: Int,
                input: ActivationLayout = .tokenMajor, output: ActivationLayout = .tokenMajor) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.input = input
        self.output = output
        // A tile never leaves a token block (block widths and tile widths are powers of two).
        var tw = SparseMatrix.tileWidth(depth: inFeatures)
        for w in [input.tokenBlockWidth, output.tokenBlockWidth].compactMap({ $0 }) {
            precondition(w >= 8 && w & (w - 1) == 0, "token block width \(w) is not a power of two ≥ 8")
            tw = min(tw, w)
        }
        tileWidth = tw
        // A token block is read in place when it is one tile. A deep layer's tile is narrower
        // than the block (its X tile must fit L2) and is packed by row copies: read in place,
        // its rows would be a block apart and use a fraction of the cache sets (MiniLM's
        // 1536 -> 384 at 1024 tokens, 90%: 3.5 ms in place against 1.9 ms packed).
        readsInPlace = input.tokenBlockWidth == tw
        let ldx = tw
        if transposed {
            var rows = [Float](repeating: 0, count: inFeatures * outFeatures)
            for k in 0..<inFeatures { for m in 0..<outFeatures { rows[m * inFeatures + k] = weight[k * outFeatures + m] } }
            matrix = rows.withUnsafeBufferPointer {
                SparseMatrix(rows: outFeatures, depth: inFeatures, a: $0.baseAddress!, lda: inFeatures, ldx: ldx)
            }
        } else {
            matrix = SparseMatrix(rows: outFeatures, depth: inFeatures, a: weight, lda: inFeatures, ldx: ldx)
        }
        let packedFloats = readsInPlace ? 0 : inFeatures * tw
        let productFloats = output == .tokenMajor ? outFeatures * tw : 0
        scratch = ThreadScratch(floatsPerThread: packedFloats + productFloats, threads: threads)
    }

    deinit { matrix.deallocate() }

    /// Y = epilogue(X · Wᵀ) for n tokens; `epilogue.bias` is per output feature.
    public func run(n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue, pool: ThreadPool) {
        // With a token-blocked operand no tile may straddle two blocks: a last narrow tile is
        // widened into the padding (a blocked operand's block, a feature-major one's row
        // padding), and only its valid tokens are packed from, or written to, a token-major one.
        let blocked = input.tokenBlockWidth != nil || output.tokenBlockWidth != nil
        let tiles = ColumnTiles(count: n, width: tileWidth, padded: blocked)
        guard tiles.count > 0 else { return }
        let chunks = matrix.rowChunks(tiles: tiles.count, threads: pool.threads)
        let (k, m, tw, input, output) = (inFeatures, outFeatures, tileWidth, input, output)
        pool.parallelChunks(tiles.count * chunks) { thread, items in
            let packed = self.scratch[thread]
            let product = packed + (self.readsInPlace ? 0 : k * tw)
            var packedTile = -1
            for item in items {
                let tile = item / chunks, tokens = tiles[item / chunks], rows = self.matrix.rowChunk(item % chunks, of: chunks)
                let t0 = tokens.lowerBound, w = tokens.count, valid = min(tokens.upperBound, n) - t0
                // The kernel's X is a [K × tile] block: a token block read in place, a transposed
                // token-major tile, or row copies of a feature-major one. (Reading a feature-major
                // tile in place, rows a padded row stride apart, made the kernel slower than the
                // copies cost: pruned MiniLM 41–53 ms in place against 39–44 ms packed.)
                let tileX: UnsafePointer<Float>
                if self.readsInPlace {
                    tileX = x + input.offset(token: t0, feature: 0, features: k)
                } else {
                    if packedTile != tile {
                        switch input {
                        case .tokenMajor:
                            Transpose.block(x + t0 * k, ld: k, rows: valid, columns: k, into: packed, ld: tw)
                        case .featureMajor(let ld), .tokenBlocked(let ld):
                            // Rows `ld` apart from the tile's first token: copied row by row.
                            let first = x + input.offset(token: t0, feature: 0, features: k)
                            for f in 0..<k { (packed + f * tw).update(from: first + f * ld, count: valid) }
                        }
                        packedTile = tile
                    }
                    tileX = UnsafePointer(packed)
                }
                switch output {
                case .tokenMajor:
                    self.matrix.multiplyTile(rows: rows, x: tileX, width: w, y: product, ldy: tw, epilogue: epilogue)
                    Transpose.block(product, ld: tw, rows: rows.count, columns: valid,
                                    into: y + t0 * m + rows.lowerBound, ld: m)
                case .featureMajor(let ldy), .tokenBlocked(let ldy):
                    let base = output.offset(token: t0, feature: rows.lowerBound, features: m)
                    self.matrix.multiplyTile(rows: rows, x: tileX, width: w, y: y + base, ldy: ldy, epilogue: epilogue)
                }
            }
        }
    }
}
