/// A linear layer with a sparse weight: Y[N × M] = X[N × K] · Wᵀ + bias, activations row-major
/// (tokens × features) as the engine keeps them, W as [M × K] (output features × input features).
///
/// The kernel needs the dimension it vectorises over (tokens) contiguous, so each tile of tokens
/// is transposed into a packed [K × tile] block, multiplied into a [M × tile] block (epilogue
/// fused) and transposed back into Y. Feature-major activations (`ActivationLayout`) skip those
/// transposes: a feature-major X tile is packed by row copies, a feature-major Y is written
/// directly. Tiles run in parallel; with too few tiles for the threads, output features are
/// split as well.
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
            matrix = SparseMatrix(rows: outFeatures, depth: inFeatures, a: weight, lda: inFeatures, ldx: tw)
        }
        scratch = ThreadScratch(floatsPerThread: (inFeatures + outFeatures) * tileWidth, threads: threads)
    }

    deinit { matrix.deallocate() }

    /// Y = epilogue(X · Wᵀ) for n tokens; `epilogue.bias` is per output feature. X and Y are laid
    /// out as `input` and `output` say.
    public func run(n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue,
                    pool: ThreadPool, input: ActivationLayout = .tokenMajor, output: ActivationLayout = .tokenMajor) {
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
                // The kernel's X is a packed [K × tile] block: a transpose of a token-major tile,
                // or row copies of a feature-major one. (Reading a feature-major tile in place,
                // rows a padded row stride apart, made the kernel slower than the copies cost:
                // pruned MiniLM 41–53 ms in place against 39–44 ms packed, alternating runs.)
                if packedTile != tile {
                    switch input {
                    case .tokenMajor:
                        Transpose.block(x + tokens.lowerBound * k, ld: k, rows: w, columns: k, into: packed, ld: tw)
                    case .featureMajor(let ld):
                        for f in 0..<k { (packed + f * tw).update(from: x + f * ld + tokens.lowerBound, count: w) }
                    }
                    packedTile = tile
                }
                let tileX = UnsafePointer(packed)
                switch output {
                case .tokenMajor:
                    self.matrix.multiplyTile(rows: rows, x: tileX, width: w, y: product, ldy: tw, epilogue: epilogue)
                    Transpose.block(product, ld: tw, rows: rows.count, columns: w,
                                    into: y + tokens.lowerBound * m + rows.lowerBound, ld: m)
                case .featureMajor(let ldy):
                    self.matrix.multiplyTile(rows: rows, x: tileX, width: w, y: y + rows.lowerBound * ldy + tokens.lowerBound,
                                             ldy: ldy, epilogue: epilogue)
                }
            }
        }
    }
}
