/// Unfolds convolution patches of one image and one group into a [patchSize × OH·OW] matrix.
public enum Im2col {
    /// Writes the patch matrix of `input` (one image, CHW, starting at the group's first channel)
    /// into `columns` (row-major, patchSize rows, OH·OW columns). Out-of-image taps are zero.
    /// `rowStride` (default OH·OW) lets several images share one wider matrix, side by side.
    @inlinable
    public static func unfold(_ g: ConvGeometry, input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
                              rowStride: Int? = nil) {
        unfold(g, input: input, columns: columns, channels: 0..<g.groupInChannels, rowStride: rowStride)
    }

    /// The rows of input channels `channels` only (rows c·kh·kw ..< (c+1)·kh·kw), so threads can
    /// unfold disjoint channel ranges.
    @inlinable
    public static func unfold(_ g: ConvGeometry, input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
                              channels: Range<Int>, rowStride: Int? = nil) {
        let oh = g.outHeight, ow = g.outWidth, ih = g.inHeight, iw = g.inWidth
        let plane = rowStride ?? oh * ow
        var row = channels.lowerBound * g.kernelHeight * g.kernelWidth
        for c in channels {
            let channel = input + c * ih * iw
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let dst = columns + row * plane
                    let dy = ky * g.dilationH - g.padTop, dx = kx * g.dilationW - g.padLeft
                    for y in 0..<oh {
                        let iy = y * g.strideH + dy
                        let out = dst + y * ow
                        if iy < 0 || iy >= ih {
                            out.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = channel + iy * iw
                        if g.strideW == 1 {
                            // Contiguous run: zero the left/right borders, copy the middle.
                            let lo = max(0, -dx), hi = min(ow, iw - dx)
                            if lo > 0 { out.update(repeating: 0, count: min(lo, ow)) }
                            if hi > lo { (out + lo).update(from: src + lo + dx, count: hi - lo) }
                            if hi < ow { (out + max(hi, 0)).update(repeating: 0, count: ow - max(hi, 0)) }
                        } else {
                            for x in 0..<ow {
                                let ix = x * g.strideW + dx
                                out[x] = ix >= 0 && ix < iw ? src[ix] : 0
                            }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
