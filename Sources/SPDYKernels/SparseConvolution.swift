/// A 2-D convolution (NCHW, grouped or not) with a sparse weight, computed tile by tile: a tile of
/// output positions gets its input packed into a small contiguous block, every output channel's
/// nonzeros run over that block (`SparseMatrix.multiplyTile`, epilogue fused), and the results
/// are stored. Two ways of packing, chosen from the geometry:
///
/// - `pointwise` (1×1, stride 1, no padding): the tile's columns of each input channel.
/// - `direct` (stride 1, any kernel, padding, dilation): the tile runs over output positions of the
///   *padded* input flattened row by row (p = oy · Wp + ox, columns ox ≥ Wo computed and dropped),
///   so the tap (c, ky, kx) of every position in the tile reads one contiguous run of the padded
///   channel, shifted by ky · Wp + kx. The block holds, per channel, the padded window
///   [p₀, p₀ + tile + span): about (tile + 2·Wp) values instead of im2col's 9 · tile for 3×3.
///
/// Strided convolutions first split their input into stride phases (`PhaseSplit`, one pass) and
/// then run as a stride-1 `pointwise` or `direct` convolution over the phase planes.
public final class SparseConvolution: @unchecked Sendable {
    public enum Method: String, Sendable { case pointwise, direct }

    public let geometry: ConvGeometry
    public let method: Method
    /// Strided convolutions: the phase split run before the tiles (nil for stride 1).
    let phases: PhaseSplit?
    /// Strided convolutions: every image's phase planes (`phaseBufferSize(geometry)` floats).
    let phaseBuffer: UnsafeMutablePointer<Float>?
    /// Whether `phaseBuffer` was allocated here (else the caller owns it and may share it).
    let ownsPhaseBuffer: Bool
    /// One matrix per group: [output channels of the group × patch size of `unit`].
    public let matrices: [SparseMatrix]
    /// The geometry the tiles run of one group (groups = 1; for strided convolutions, the
    /// stride-1 geometry over the phase planes).
    let unit: ConvGeometry
    public let tileWidth: Int
    /// Direct method: padded row length, extent of one tap window, channel stride in the block.
    let paddedWidth: Int, windowStride: Int
    /// Pointwise only: the kernel reads the input image in place instead of a packed tile.
    public let readsInPlace: Bool
    /// Direct method on small padded planes (at most `inPlacePaddedPlane` values): the input is
    /// copied once into zero-bordered planes (`paddedInput`) and the kernel reads the tiles there
    /// in place. Packing a tile of a 9 × 9 padded plane copies runs of at most nine values, a
    /// call and a division each: that cost more than the products on the demo ResNet's layers.
    public let padsInPlace: Bool
    /// Padded planes of every image and group (`padsInPlace`), plus slack for whole-vector loads.
    let paddedInput: UnsafeMutablePointer<Float>?
    /// Padded plane sizes (`padsInPlace`).
    let paddedHeight: Int
    /// Output positions per image in the tile space (flattened padded rows for `direct`).
    let positions: Int
    let scratch: ThreadScratch

    /// Floats of the phase planes a strided convolution of this geometry splits its input into
    /// (0 for stride 1).
    public static func phaseBufferSize(_ geometry: ConvGeometry) -> Int {
        guard geometry.strideH > 1 || geometry.strideW > 1 else { return 0 }
        return geometry.batch * geometry.groups * PhaseSplit(geometry.oneGroup).splitImageSize
    }

    /// `weight` is OIHW ([O × I/groups × kh × kw]), dense with zeros where pruned. A strided
    /// convolution splits its input into `phaseBuffer` (`phaseBufferSize` floats, only used while
    /// `run` runs, so plans share one among their steps), or into a buffer of its own when nil.
    public init(geometry full: ConvGeometry, weight: UnsafePointer<Float>, threads: Int,
                phaseBuffer shared: UnsafeMutablePointer<Float>? = nil) {
        geometry = full
        let group = full.oneGroup
        let phases = group.strideH > 1 || group.strideW > 1 ? PhaseSplit(group) : nil
        self.phases = phases
        ownsPhaseBuffer = phases != nil && shared == nil
        phaseBuffer = phases.map { shared ?? AlignedFloats.allocate(max(1, full.batch * full.groups * $0.splitImageSize)) }
        let g = phases?.split ?? group
        unit = g
        let k = g.patchSize, taps = g.kernelHeight * g.kernelWidth
        let method: Method = g.isPointwise ? .pointwise : .direct
        // Direct method: each channel's window in the block is the tile plus the taps' span.
        let wp = method == .direct ? g.inWidth + g.padLeft + g.padRight : 0
        let span = (g.kernelHeight - 1) * g.dilationH * wp + (g.kernelWidth - 1) * g.dilationW
        func window(_ tw: Int) -> Int {
            let stride = (tw + span + 15) / 16 * 16
            return stride % 1024 == 0 ? stride + 16 : stride  // channels a multiple of 4 KiB apart share cache sets
        }
        let tw = method == .direct ? SparseMatrix.tileWidth { g.inChannels * window($0) } : SparseMatrix.tileWidth(depth: k)
        let stride = method == .direct ? window(tw) : tw
        self.method = method
        tileWidth = tw
        paddedWidth = wp
        windowStride = stride
        positions = method == .direct ? (g.outHeight - 1) * wp + g.outWidth : g.outHeight * g.outWidth
        // Large pointwise planes are read in place (no packing) when the layer reads few channels:
        // each of the tile's X rows then lies in its own plane, a page or more apart, and with many
        // channels those rows overflow the TLB. `spdy bench kernels --suite resnet50`, batch 16,
        // 90%, alternating: in place 64→64 @56 0.94–1.01 ms against 1.10–1.25 packed, but
        // 256→64 6.0–6.3 against 4.1–4.6 and 256→128 9.1–9.4 against 7.2 (Xeon AVX-512; on Zen 3,
        // in place had won at 56×56 and lost at 28×28). Never when planes are a multiple of 4 KiB
        // apart, which maps every channel of a tile onto the same cache sets.
        let plane = g.inHeight * g.inWidth
        let inPlace = method == .pointwise && plane % 1024 != 0 && plane >= 2048 && g.inChannels <= 64
        readsInPlace = inPlace
        let hp = g.inHeight + g.padTop + g.padBottom
        let padded = method == .direct && hp * wp <= Self.inPlacePaddedPlane
        padsInPlace = padded
        paddedHeight = padded ? hp : 0
        let paddedCount = full.batch * full.groups * g.inChannels * hp * wp + Self.slack
        paddedInput = padded ? AlignedFloats.allocate(paddedCount) : nil
        paddedInput?.initialize(repeating: 0, count: paddedCount)  // the slack stays zero
        let offsets: [Int] = (0..<k).map { column in
            let c = column / taps, ky = column % taps / g.kernelWidth, kx = column % g.kernelWidth
            if inPlace { return column * plane }
            if padded { return c * hp * wp + ky * g.dilationH * wp + kx * g.dilationW }
            return method == .direct ? c * stride + ky * g.dilationH * wp + kx * g.dilationW : column * tw
        }
        matrices = (0..<full.groups).map { index in
            let groupWeight = weight + index * group.outChannels * group.patchSize
            guard let phases else {
                return SparseMatrix(rows: g.outChannels, depth: k, a: groupWeight, lda: k, columnOffsets: offsets)
            }
            return phases.weight(groupWeight).withUnsafeBufferPointer {
                SparseMatrix(rows: g.outChannels, depth: k, a: $0.baseAddress!, lda: k, columnOffsets: offsets)
            }
        }
        let packed = method == .direct ? g.inChannels * stride : k * tw
        let product = method == .direct ? g.outChannels * tw : 0
        scratch = ThreadScratch(floatsPerThread: packed + product, threads: threads)
    }

    /// Largest padded plane the direct method reads in place (a 30 × 30 plane: 28 × 28 plus a border).
    static let inPlacePaddedPlane = 1024
    /// Floats after the padded planes: the kernels load whole vectors past a tile's last column.
    static let slack = 128

    deinit {
        paddedInput?.deallocate()
        for m in matrices { m.deallocate() }
        if ownsPhaseBuffer { phaseBuffer?.deallocate() }
    }

    /// Nonzeros over all groups.
    public var nonzeros: Int { matrices.reduce(0) { $0 + $1.nonzeros } }
    /// Fraction of weights that are nonzero.
    public var density: Double { Double(nonzeros) / Double(max(1, geometry.outChannels * geometry.patchSize)) }

    /// The method as shown by `spdy inspect` / `spdy bench`: `direct`, `pointwise`, or either
    /// over a phase split (`direct/s2`).
    public var methodDescription: String {
        let (h, w) = (geometry.strideH, geometry.strideW)
        return phases == nil ? method.rawValue : "\(method.rawValue)/s\(h == w ? "\(h)" : "\(h)x\(w)")"
    }

    /// output[n, m, oy, ox] = epilogue(Σ weight · input) for every image; `epilogue.bias` per channel.
    public func run(input original: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue,
                    pool: ThreadPool) {
        let g = unit, groups = geometry.groups
        var input = original
        if let phases, let phaseBuffer {
            splitPhases(phases, original, into: phaseBuffer, pool: pool)
            input = UnsafePointer(phaseBuffer)
        }
        if let paddedInput {
            ZeroBorder.copy(input, planes: geometry.batch * groups * g.inChannels, height: g.inHeight, width: g.inWidth,
                            into: paddedInput, paddedHeight: paddedHeight, paddedWidth: paddedWidth,
                            top: g.padTop, left: g.padLeft, pool: pool)
        }
        let tiles = ColumnTiles(count: positions, width: tileWidth)
        let perImage = tiles.count * groups
        let chunks = matrices[0].rowChunks(tiles: geometry.batch * perImage, threads: pool.threads)
        let inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        let inImage = groups * g.inChannels * inPlane, outImage = geometry.outChannels * outPlane
        pool.parallelChunks(geometry.batch * perImage * chunks) { thread, items in
            let packed = self.scratch[thread]
            let product = packed + (self.method == .direct ? g.inChannels * self.windowStride : g.patchSize * self.tileWidth)
            var packedTile = -1
            for item in items {
                let tileIndex = item / chunks, n = tileIndex / perImage
                let group = tileIndex % perImage / tiles.count, columns = tiles[tileIndex % tiles.count]
                let matrix = self.matrices[group], rows = matrix.rowChunk(item % chunks, of: chunks)
                let x = self.paddedInput.map { UnsafePointer($0 + (n * groups + group) * g.inChannels * self.paddedHeight * self.paddedWidth) }
                    ?? input + n * inImage + group * g.inChannels * inPlane
                let yOffset = n * outImage + group * g.outChannels * outPlane
                let y = output + yOffset
                var local = epilogue.advanced(by: yOffset)
                local.bias = epilogue.bias.map { $0 + group * g.outChannels }
                if packedTile != tileIndex && !self.readsInPlace && !self.padsInPlace {
                    self.pack(x, columns, into: packed)
                    packedTile = tileIndex
                }
                switch self.method {
                case .pointwise:
                    matrix.multiplyTile(rows: rows, x: self.readsInPlace ? x + columns.lowerBound : UnsafePointer(packed), width: columns.count,
                                        y: y + rows.lowerBound * outPlane + columns.lowerBound, ldy: outPlane,
                                        epilogue: local.advanced(by: rows.lowerBound * outPlane + columns.lowerBound))
                case .direct:
                    // The product tile is laid out by padded rows, not like the output: a residual
                    // (and the clamp after it) is applied as the valid columns are scattered.
                    var inTile = local
                    if local.residual != nil { (inTile.residual, inTile.lo, inTile.hi) = (nil, -.infinity, .infinity) }
                    matrix.multiplyTile(rows: rows, x: self.padsInPlace ? x + columns.lowerBound : UnsafePointer(packed),
                                        width: columns.count, y: product, ldy: self.tileWidth, epilogue: inTile)
                    self.scatter(product, columns, rows, into: y, epilogue: local)
                }
            }
        }
    }

    /// Splits every image and group of `x` into its phase planes, in parallel over channel blocks.
    func splitPhases(_ phases: PhaseSplit, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let full = geometry, channels = full.groupInChannels, blocks = (channels + 7) / 8
        let inPlane = full.inHeight * full.inWidth
        pool.parallelFor(full.batch * full.groups * blocks, grain: 1) { items in
            for item in items {
                let image = item / blocks, block = item % blocks  // image = n · groups + group
                let range = (block * 8)..<min(channels, block * 8 + 8)
                phases.split(x + image * channels * inPlane, channels: range, into: y + image * phases.splitImageSize)
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
