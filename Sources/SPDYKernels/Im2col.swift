/// Unfolds convolution patches of one image and one group into a [patchSize × OH·OW] matrix.
public enum Im2col {
    /// Writes the patch matrix of `input` (one image, CHW, starting at the group's first channel)
    /// into `columns` (row-major, patchSize rows, OH·OW columns). Out-of-image taps are zero.
    /// `rowStride` (default OH·OW) lets several images share one wider matrix, side by side.
    public static func unfold(_ g: ConvGeometry, input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
                              rowStride: Int? = nil) {
        unfold(g, input: input, columns: columns, channels: 0..<g.groupInChannels, positions: 0..<(g.outHeight * g.outWidth),
               rowStride: rowStride)
    }

    /// The columns of output positions `positions` only (flattened oy · OW + ox), for input
    /// channels `channels` (threads unfold disjoint ranges): rows c·kh·kw ..< (c+1)·kh·kw of a
    /// [patchSize × positions.count] matrix (rows `rowStride` apart when given). Unfolding a block of positions at a time keeps
    /// the matrix in cache (a 3×3 layer on a 56×56 plane unfolds 7 MB per image).
    public static func unfold(_ g: ConvGeometry, input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
                              channels: Range<Int>, positions: Range<Int>, rowStride: Int? = nil) {
        let oh = g.outHeight, ow = g.outWidth, ih = g.inHeight, iw = g.inWidth, s = g.strideW
        let rowLength = rowStride ?? positions.count
        precondition(positions.lowerBound >= 0 && positions.upperBound <= oh * ow, "positions outside the output plane")
        var row = channels.lowerBound * g.kernelHeight * g.kernelWidth
        for c in channels {
            let channel = input + c * ih * iw
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let dst = columns + row * rowLength
                    let dx = kx * g.dilationW - g.padLeft
                    // Output columns x with 0 ≤ x·s + dx < iw.
                    let xLo = dx >= 0 ? 0 : min(ow, (-dx + s - 1) / s)
                    let xHi = iw - dx <= 0 ? xLo : max(xLo, min(ow, (iw - 1 - dx) / s + 1))
                    var p = positions.lowerBound
                    while p < positions.upperBound {
                        // One segment of output row oy: columns x0 ..< x0 + run.
                        let oy = p / ow, x0 = p % ow, run = min(positions.upperBound - p, ow - x0)
                        let out = dst + (p - positions.lowerBound)  // out[x - x0] is column x of this row
                        let iy = oy * g.strideH + ky * g.dilationH - g.padTop
                        if iy < 0 || iy >= ih {
                            out.update(repeating: 0, count: run)
                        } else {
                            let src = channel + iy * iw + dx  // src[x · s] is the tap of column x
                            let lo = min(max(xLo, x0), x0 + run), hi = max(min(xHi, x0 + run), lo)
                            if lo > x0 { out.update(repeating: 0, count: lo - x0) }
                            if s == 1 {
                                if hi > lo { (out + lo - x0).update(from: src + lo, count: hi - lo) }
                            } else {
                                var x = lo
                                if s == 2 {
                                    while x + 8 <= hi && x * 2 + dx + 16 <= iw {
                                        let v = UnsafeRawPointer(src + x * 2).loadUnaligned(as: SIMD16<Float>.self)
                                        UnsafeMutableRawPointer(out + x - x0).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                                        x += 8
                                    }
                                }
                                while x < hi {
                                    out[x - x0] = src[x * s]
                                    x += 1
                                }
                            }
                            if x0 + run > hi { (out + hi - x0).update(repeating: 0, count: x0 + run - hi) }
                        }
                        p += run
                    }
                    row += 1
                }
            }
        }
    }
}
