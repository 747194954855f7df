/// Direct depthwise 2-D convolution (one input and one output channel per group), NCHW.
public enum DepthwiseConv {
    /// Computes channels `channels` of image `n`: out = conv(input, weight) + bias.
    /// `weight` is [C, 1, kh, kw]; `bias` has C entries or is nil.
    @inlinable
    public static func run(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                           image n: Int, channels: Range<Int>) {
        let ih = g.inHeight, iw = g.inWidth, oh = g.outHeight, ow = g.outWidth
        let kh = g.kernelHeight, kw = g.kernelWidth
        for c in channels {
            let src = input + (n * g.inChannels + c) * ih * iw
            let dst = output + (n * g.outChannels + c) * oh * ow
            let w = weight + c * kh * kw
            let b = bias?[c] ?? 0
            for y in 0..<oh {
                let row = dst + y * ow
                for x in 0..<ow { row[x] = b }
                for ky in 0..<kh {
                    let iy = y * g.strideH + ky * g.dilationH - g.padTop
                    if iy < 0 || iy >= ih { continue }
                    let srcRow = src + iy * iw
                    for kx in 0..<kw {
                        let wv = w[ky * kw + kx]
                        let dx = kx * g.dilationW - g.padLeft
                        // x range where 0 <= x*stride + dx < iw
                        let s = g.strideW
                        let xlo = dx >= 0 ? 0 : (-dx + s - 1) / s
                        let xhi = min(ow, iw - dx > 0 ? (iw - dx - 1) / s + 1 : 0)
                        if xlo >= xhi { continue }
                        if s == 1 {
                            let sp = srcRow + dx
                            for x in xlo..<xhi { row[x] += wv * sp[x] }
                        } else {
                            for x in xlo..<xhi { row[x] += wv * srcRow[x * s + dx] }
                        }
                    }
                }
            }
        }
    }
}
