/// Direct depthwise 2-D convolution (one input and one output channel per group), NCHW.
///
/// Each channel plane is first copied into a zero-padded plane, so every output is an interior
/// one (no bounds checks anywhere). At stride 2 the copy also splits every padded row into its
/// even and its odd columns, so each tap of eight consecutive outputs is one contiguous load.
/// Rows of 8 or more outputs are accumulated in registers 32 (then 8) outputs at a time over
/// every tap and stored once with the bias and a clamp (ReLU/Clip) applied; a row's last partial
/// vector is recomputed overlapping the previous one. Planes narrower than 8 (7×7 at the end of
/// EfficientNet) run over the padded plane flattened row by row: vectors span row ends, and the
/// columns past the output width are computed into scratch and dropped.
///
/// Measured with `kernel-bench` (docs/benchmarks.md): the earlier loop, adding one tap at a time
/// over a row with bounds-checked edges, ran these layers at 1–3 GMAC/s.
public enum DepthwiseConv {
    /// How a padded plane is laid out in scratch.
    struct Layout {
        /// Floats per padded row (both halves at stride 2).
        let rowWidth: Int
        /// Padded rows.
        let rows: Int
        /// Offset of each kernel column's first input from the output column's position.
        let columnOffsets: [Int]
        /// Buffer positions per output column (1 unless the stride is 3 or more).
        let columnStep: Int
        /// Floats between the first inputs of consecutive output rows.
        let outputRowStep: Int
        /// The even/odd split of stride 2 (the size of the even half), or nil.
        let evenWidth: Int?

        init(_ g: ConvGeometry) {
            let width = g.padLeft + g.inWidth + g.padRight
            rows = g.padTop + g.inHeight + g.padBottom
            if g.strideW == 2 {
                let even = (width + 1) / 2
                evenWidth = even
                rowWidth = 2 * even
                columnOffsets = (0..<g.kernelWidth).map { kx in
                    let c = kx * g.dilationW
                    return (c % 2 == 0 ? 0 : even) + c / 2
                }
                columnStep = 1
            } else {
                evenWidth = nil
                rowWidth = width
                columnOffsets = (0..<g.kernelWidth).map { $0 * g.dilationW }
                columnStep = g.strideW
            }
            outputRowStep = g.strideH * rowWidth
        }

        /// Floats of the padded plane, with slack for the flattened path's reads past the end.
        var planeSize: Int { rows * rowWidth + outputRowStep + 16 }
    }

    /// Floats of scratch `run` allocates per call.
    static func scratchSize(_ g: ConvGeometry) -> Int {
        let layout = Layout(g)
        return layout.planeSize + g.outHeight * layout.outputRowStep + 8
    }

    /// Computes channels `channels` of image `n`: out = clamp(conv(input, weight) + bias, lo, hi).
    /// `weight` is [C, 1, kh, kw]; `bias` has C entries or is nil. One padded-plane scratch is
    /// allocated per call and reused for every channel of `channels`.
    public static func run(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                           image n: Int, channels: Range<Int>, lo: Float = -.infinity, hi: Float = .infinity) {
        let ih = g.inHeight, iw = g.inWidth, oh = g.outHeight, ow = g.outWidth
        let kh = g.kernelHeight, kw = g.kernelWidth
        let layout = Layout(g)
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize(g))
        defer { padded.deallocate() }
        let flat = padded + layout.planeSize
        // Zero the borders once: every channel writes the same interior.
        padded.initialize(repeating: 0, count: layout.planeSize)
        let vectorised = g.strideW <= 2
        layout.columnOffsets.withUnsafeBufferPointer { offsets in
            for c in channels {
                let src = input + (n * g.inChannels + c) * ih * iw
                for y in 0..<ih {
                    let line = padded + (g.padTop + y) * layout.rowWidth
                    if let even = layout.evenWidth {
                        split(src + y * iw, count: iw, start: g.padLeft, even: line, odd: line + even)
                    } else {
                        (line + g.padLeft).update(from: src + y * iw, count: iw)
                    }
                }
                let taps = Taps(weights: weight + c * kh * kw, kernelHeight: kh, kernelWidth: kw,
                                rowStride: g.dilationH * layout.rowWidth, columnOffsets: offsets.baseAddress!,
                                columnStep: layout.columnStep)
                let dst = output + (n * g.outChannels + c) * oh * ow
                let b = bias?[c] ?? 0
                if !vectorised {
                    for y in 0..<oh {
                        let source = UnsafePointer(padded + y * layout.outputRowStep)
                        for x in 0..<ow { dst[y * ow + x] = scalar(taps, source, x, bias: b, lo, hi) }
                    }
                } else if ow >= 8 {
                    for y in 0..<oh {
                        vectorRow(taps, UnsafePointer(padded + y * layout.outputRowStep), dst + y * ow, width: ow, bias: b, lo, hi)
                    }
                } else {
                    // Flattened: positions 0 ..< (oh − 1)·step + ow of the plane, rows picked out after.
                    let step = layout.outputRowStep
                    vectorRow(taps, UnsafePointer(padded), flat, width: max(8, (oh - 1) * step + ow), bias: b, lo, hi)
                    for y in 0..<oh { (dst + y * ow).update(from: flat + y * step, count: ow) }
                }
            }
        }
    }

    /// Copies `count` values into the even and odd columns of a padded row whose first value sits
    /// at padded column `start`.
    static func split(_ source: UnsafePointer<Float>, count: Int, start: Int,
                      even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>) {
        var i = 0
        // Sixteen values at a time: columns start + i, start + i + 2, … go to one half.
        let evenBase = even + (start + 1) / 2, oddBase = odd + start / 2
        let startsEven = start % 2 == 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(evenBase + i / 2).storeBytes(of: startsEven ? v.evenHalf : v.oddHalf, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(oddBase + i / 2).storeBytes(of: startsEven ? v.oddHalf : v.evenHalf, as: SIMD8<Float>.self)
            i += 16
        }
        while i < count {
            let column = start + i
            (column % 2 == 0 ? even : odd)[column / 2] = source[i]
            i += 1
        }
    }

    /// The kernel of one channel over the padded plane.
    struct Taps {
        let weights: UnsafePointer<Float>
        let kernelHeight: Int, kernelWidth: Int
        /// Floats between the input rows of consecutive kernel rows.
        let rowStride: Int
        let columnOffsets: UnsafePointer<Int>
        let columnStep: Int
    }

    /// One output (no bounds checks: the plane is padded).
    @inline(__always)
    static func scalar(_ t: Taps, _ source: UnsafePointer<Float>, _ x: Int, bias: Float, _ lo: Float, _ hi: Float) -> Float {
        var sum = bias
        for ky in 0..<t.kernelHeight {
            let line = source + ky * t.rowStride + x * t.columnStep
            for kx in 0..<t.kernelWidth { sum += t.weights[ky * t.kernelWidth + kx] * line[t.columnOffsets[kx]] }
        }
        return min(max(sum, lo), hi)
    }

    /// Outputs `0..<width` of a row whose inputs are contiguous per tap: steps of 32 (four
    /// independent accumulators hide the FMA latency), then 8, then the last 8 overlapping.
    /// `width` ≥ 8.
    @inline(__always)
    static func vectorRow(_ t: Taps, _ source: UnsafePointer<Float>, _ row: UnsafeMutablePointer<Float>,
                          width: Int, bias: Float, _ lo: Float, _ hi: Float) {
        let vlo = SIMD8<Float>(repeating: lo), vhi = SIMD8<Float>(repeating: hi), vb = SIMD8<Float>(repeating: bias)
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        }
        @inline(__always) func store(_ v: SIMD8<Float>, _ at: Int) {
            var r = v
            r.replace(with: vlo, where: r .< vlo)
            r.replace(with: vhi, where: r .> vhi)
            UnsafeMutableRawPointer(row + at).storeBytes(of: r, as: SIMD8<Float>.self)
        }
        @inline(__always) func eight(_ x: Int) {
            var a = vb
            for ky in 0..<t.kernelHeight {
                let line = source + ky * t.rowStride + x
                for kx in 0..<t.kernelWidth {
                    a.addProduct(SIMD8(repeating: t.weights[ky * t.kernelWidth + kx]), load(line + t.columnOffsets[kx]))
                }
            }
            store(a, x)
        }
        var x = 0
        while x + 32 <= width {
            var a0 = vb, a1 = vb, a2 = vb, a3 = vb
            for ky in 0..<t.kernelHeight {
                let line = source + ky * t.rowStride + x
                for kx in 0..<t.kernelWidth {
                    let w = SIMD8<Float>(repeating: t.weights[ky * t.kernelWidth + kx])
                    let p = line + t.columnOffsets[kx]
                    a0.addProduct(w, load(p)); a1.addProduct(w, load(p + 8))
                    a2.addProduct(w, load(p + 16)); a3.addProduct(w, load(p + 24))
                }
            }
            store(a0, x); store(a1, x + 8); store(a2, x + 16); store(a3, x + 24)
            x += 32
        }
        while x + 8 <= width { eight(x); x += 8 }
        if x < width { eight(width - 8) }
    }
}
