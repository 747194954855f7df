/// A 2-D convolution (NCHW, grouped or not) with a sparse weight, computed tile by tile: a tile of
/// output positions gets its input packed into a small contiguous block, every output channel's
/// nonzeros run over that block (`SparseMatrix.multiplyTile`, epilogue fused), and the results
/// are stored. Three ways of packing, chosen from the geometry:
///
/// - `pointwise` (1×1, stride 1, no padding): the tile's columns of each input channel.
/// - `direct` (stride 1, any kernel, padding, dilation): the tile runs over output positions of the
///   *padded* input flattened row by row (p = oy · Wp + ox, columns ox ≥ Wo computed and dropped),
///   so the tap (c, ky, kx) of every position in the tile reads one contiguous run of the padded
///   channel, shifted by ky · Wp + kx. The block holds, per channel, the padded window
///   [p₀, p₀ + tile + span): about (tile + 2·Wp) values instead of im2col's 9 · tile for 3×3.
/// - `im2col` (strided and other convolutions): the tile's im2col columns, gathered directly.
public final class SparseConvolution: @unchecked Sendable {
    public enum Method: String, Sendable { case pointwise, direct, im2col }

    public let geometry: ConvGeometry
    public let method: Method
    /// One matrix per group: [output channels of the group × patch size].
    public let matrices: [SparseMatrix]
    /// The geometry of one group (groups = 1).
    let unit: ConvGeometry
    public let tileWidth: Int
    /// Direct method: padded row length, extent of one tap window, channel stride in the block.
    let paddedWidth: Int, windowStride: Int
    /// Pointwise only: the kernel reads the input image in place instead of a packed tile.
    public let readsInPlace: Bool
    /// Output positions per image in the tile space (flattened padded rows for `direct`).
    let positions: Int
    let scratch: ThreadScratch

    /// `weight` is OIHW ([O × I/groups × kh × kw]), dense with zeros where pruned.
    public init(geometry full: ConvGeometry, weight: UnsafePointer<Float>, threads: Int) {
        geometry = full
        var g = full
        g.groups = 1
        g.inChannels = full.groupInChannels
        g.outChannels = full.groupOutChannels
        unit = g
        let k = g.patchSize, taps = g.kernelHeight * g.kernelWidth
        let method: Method = g.isPointwise ? .pointwise : (g.strideH == 1 && g.strideW == 1 ? .direct : .im2col)
        let tw = SparseMatrix.tileWidth(depth: k)
        var wp = 0, stride = tw
        if method == .direct {
            wp = g.inWidth + g.padLeft + g.padRight
            let span = (g.kernelHeight - 1) * g.dilationH * wp + (g.kernelWidth - 1) * g.dilationW
            stride = (tw + span + 15) / 16 * 16
            if stride % 1024 == 0 { stride += 16 }  // channels a multiple of 4 KiB apart share cache sets
        }
        self.method = method
        tileWidth = tw
        paddedWidth = wp
        windowStride = stride
        positions = method == .direct ? (g.outHeight - 1) * wp + g.outWidth : g.outHeight * g.outWidth
        // Large pointwise planes are read in place (no packing; `spdy bench kernels`: faster on
        // 56×56, slower on 28×28 and smaller), unless channel planes are a multiple of 4 KiB
        // apart, which maps every channel of a tile onto the same cache sets.
        let plane = g.inHeight * g.inWidth
        let inPlace = method == .pointwise && plane % 1024 != 0 && plane >= 2048  // measured: helps 56×56, not 28×28
        readsInPlace = inPlace
        let offsets: [Int] = (0..<k).map { column in
            let c = column / taps, ky = column % taps / g.kernelWidth, kx = column % g.kernelWidth
            if inPlace { return column * plane }
            return method == .direct ? c * stride + ky * g.dilationH * wp + kx * g.dilationW : column * tw
        }
        matrices = (0..<full.groups).map {
            SparseMatrix(rows: g.outChannels, depth: k, a: weight + $0 * g.outChannels * k, lda: k, columnOffsets: offsets)
        }
        let packed = method == .direct ? g.inChannels * windowStride : k * tw
        let product = method == .direct ? g.outChannels * tw : 0
        scratch = ThreadScratch(floatsPerThread: packed + product, threads: threads)
    }

    deinit { for m in matrices { m.deallocate() } }

    /// Nonzeros over all groups.
    public var nonzeros: Int { matrices.reduce(0) { $0 + $1.nonzeros } }
    /// Fraction of weights that are nonzero.
    public var density: Double { Double(nonzeros) / Double(max(1, geometry.outChannels * unit.patchSize)) }

    /// output[n, m, oy, ox] = epilogue(Σ weight · input) for every image; `epilogue.bias` per channel.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue,
                    pool: ThreadPool) {
        let g = unit, groups = geometry.groups
        let tiles = ColumnTiles(count: positions, width: tileWidth)
        let perImage = tiles.count * groups
        let chunks = matrices[0].rowChunks(tiles: geometry.batch * perImage, threads: pool.threads)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        let inImage = geometry.inChannels * inPlane, outImage = geometry.outChannels * outPlane
        pool.parallelChunks(geometry.batch * perImage * chunks) { thread, items in
            let packed = self.scratch[thread]
            let product = packed + (self.method == .direct ? g.inChannels * self.windowStride : g.patchSize * self.tileWidth)
            var packedTile = -1
            for item in items {
                let tileIndex = item / chunks, n = tileIndex / perImage
                let group = tileIndex % perImage / tiles.count, columns = tiles[tileIndex % tiles.count]
                let matrix = self.matrices[group], rows = matrix.rowChunk(item % chunks, of: chunks)
                let x = input + n * inImage + group * g.inChannels * inPlane
                let yOffset = n * outImage + group * g.outChannels * outPlane
                let y = output + yOffset
                var local = epilogue.advanced(by: yOffset)
                local.bias = epilogue.bias.map { $0 + group * g.outChannels }
                if packedTile != tileIndex && !self.readsInPlace {
                    self.pack(x, columns, into: packed)
                    packedTile = tileIndex
                }
                switch self.method {
                case .pointwise, .im2col:
                    matrix.multiplyTile(rows: rows, x: self.readsInPlace ? x + columns.lowerBound : UnsafePointer(packed), width: columns.count,
                                        y: y + rows.lowerBound * outPlane + columns.lowerBound, ldy: outPlane,
                                        epilogue: local.advanced(by: rows.lowerBound * outPlane + columns.lowerBound))
                case .direct:
                    // The product tile is laid out by padded rows, not like the output: a residual
                    // (and the clamp after it) is applied as the valid columns are scattered.
                    var inTile = local
                    if local.residual != nil { (inTile.residual, inTile.lo, inTile.hi) = (nil, -.infinity, .infinity) }
                    matrix.multiplyTile(rows: rows, x: packed, width: columns.count, y: product, ldy: self.tileWidth,
                                        epilogue: inTile)
                    self.scatter(product, columns, rows, into: y, epilogue: local)
                }
            }
        }
    }

    /// Fills the packed block for output positions `columns` of one image `x`.
    func pack(_ x: UnsafePointer<Float>, _ columns: Range<Int>, into packed: UnsafeMutablePointer<Float>) {
        let g = unit, tw = tileWidth, w = columns.count
        let ih = g.inHeight, iw = g.inWidth, inPlane = ih * iw
        switch method {
        case .pointwise:
            for c in 0..<g.inChannels {
                (packed + c * tw).update(from: x + c * inPlane + columns.lowerBound, count: w)
            }
        case .direct:
            // The padded window [p0, p0 + stride) of each channel, row segment by row segment.
            let wp = paddedWidth, p0 = columns.lowerBound, extent = windowStride
            for c in 0..<g.inChannels {
                let src = x + c * inPlane, dst = packed + c * extent
                var q = 0
                while q < extent {
                    let p = p0 + q, py = p / wp, px = p % wp
                    let run = min(extent - q, wp - px)
                    let iy = py - g.padTop
                    if iy < 0 || iy >= ih {
                        (dst + q).update(repeating: 0, count: run)
                    } else {
                        // Columns px ..< px + run of padded row py: zeros, the image row, zeros.
                        let lo = max(px, g.padLeft), hi = min(px + run, g.padLeft + iw)
                        if lo > px { (dst + q).update(repeating: 0, count: min(lo, px + run) - px) }
                        if hi > lo { (dst + q + lo - px).update(from: src + iy * iw + lo - g.padLeft, count: hi - lo) }
                        let tail = max(hi, lo, px)
                        if px + run > tail { (dst + q + tail - px).update(repeating: 0, count: px + run - tail) }
                    }
                    q += run
                }
            }
        case .im2col:
            // The tile's positions cover a few output-row segments; per tap and segment, the
            // columns whose input lies inside the image are gathered without bounds checks.
            let ow = g.outWidth, sw = g.strideW
            var row = 0
            for c in 0..<g.inChannels {
                let src = x + c * inPlane
                for ky in 0..<g.kernelHeight {
                    for kx in 0..<g.kernelWidth {
                        let dst = packed + row * tw, dx = kx * g.dilationW - g.padLeft
                        // Output columns ox with 0 <= ox·sw + dx < iw.
                        let oxLo = dx >= 0 ? 0 : (-dx + sw - 1) / sw
                        let oxHi = iw - dx <= 0 ? 0 : (iw - dx - 1) / sw + 1
                        var p = columns.lowerBound
                        while p < columns.upperBound {
                            let oy = p / ow, ox0 = p % ow, run = min(columns.upperBound - p, ow - ox0)
                            let out = dst + (p - columns.lowerBound)
                            let iy = oy * g.strideH + ky * g.dilationH - g.padTop
                            if iy < 0 || iy >= ih {
                                out.update(repeating: 0, count: run)
                            } else {
                                let line = src + iy * iw + dx
                                let lo = min(max(oxLo, ox0), ox0 + run), hi = max(min(oxHi, ox0 + run), lo)
                                for ox in ox0..<lo { out[ox - ox0] = 0 }
                                if sw == 1 {
                                    if hi > lo { (out + lo - ox0).update(from: line + lo, count: hi - lo) }
                                } else {
                                    for ox in lo..<hi { out[ox - ox0] = line[ox * sw] }
                                }
                                for ox in hi..<(ox0 + run) { out[ox - ox0] = 0 }
                            }
                            p += run
                        }
                        row += 1
                    }
                }
            }
        }
    }

    /// Direct method: copies the valid positions (ox < Wo) of a finished tile into the output;
    /// with a residual in `epilogue` (laid out like `y`), adds it and applies the clamp on the way.
    func scatter(_ product: UnsafePointer<Float>, _ columns: Range<Int>, _ rows: Range<Int>,
                 into y: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue) {
        let g = unit, wp = paddedWidth, ow = g.outWidth, plane = g.outHeight * ow
        var p = columns.lowerBound
        while p < columns.upperBound {
            let oy = p / wp, ox = p % wp
            let run = min(columns.upperBound - p, wp - ox)
            if ox < ow {
                let valid = min(run, ow - ox)
                for r in rows {
                    let source = product + (r - rows.lowerBound) * tileWidth + p - columns.lowerBound
                    let offset = r * plane + oy * ow + ox
                    if let residual = epilogue.residual {
                        VectorMath.add(source, residual + offset, y + offset, count: valid, lo: epilogue.lo, hi: epilogue.hi)
                    } else {
                        (y + offset).update(from: source, count: valid)
                    }
                }
            }
            p += run
        }
    }
}
