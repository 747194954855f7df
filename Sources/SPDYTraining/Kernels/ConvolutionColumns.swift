/// The patch matrix of a convolution (im2col) and its adjoint (col2im).
///
/// For one image and one group the matrix has `channels·kh·kw` rows (channel-major, then kernel
/// row, kernel column) and `OH·OW` columns; several images sit side by side in one wider matrix
/// (`rowStride` = images·OH·OW, image b at column offset b·OH·OW), so one product covers them.
enum ConvolutionColumns {
    /// Writes the rows of input channels `channels` of one image (`input` points at the group's
    /// first channel, CHW) into `columns` at column offset `columnOffset`. Out-of-image taps are 0.
    static func unfold<S: TrainingScalar>(_ w: WindowShape, input: UnsafePointer<S>, channels: Range<Int>,
                                          columns: UnsafeMutablePointer<S>, rowStride: Int, columnOffset: Int) {
        let oh = w.outHeight, ow = w.outWidth, ih = w.inHeight, iw = w.inWidth
        for c in channels {
            let plane = input + c * ih * iw
            for ky in 0..<w.kernelHeight {
                for kx in 0..<w.kernelWidth {
                    let row = (c * w.kernelHeight + ky) * w.kernelWidth + kx
                    let dst = columns + row * rowStride + columnOffset
                    let dy = ky * w.dilationH - w.padTop, dx = kx * w.dilationW - w.padLeft
                    for y in 0..<oh {
                        let iy = y * w.strideH + dy
                        let out = dst + y * ow
                        if iy < 0 || iy >= ih {
                            out.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + iy * iw
                        if w.strideW == 1 {
                            let lo = min(ow, max(0, -dx)), hi = max(lo, min(ow, iw - dx))
                            if lo > 0 { out.update(repeating: 0, count: lo) }
                            if hi > lo { (out + lo).update(from: src + lo + dx, count: hi - lo) }
                            if hi < ow { (out + hi).update(repeating: 0, count: ow - hi) }
                        } else {
                            for x in 0..<ow {
                                let ix = x * w.strideW + dx
                                out[x] = ix >= 0 && ix < iw ? src[ix] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the rows of input channels `channels` of `columns` (at column offset `columnOffset`)
    /// back onto the image positions they were read from: the adjoint of `unfold`.
    static func fold<S: TrainingScalar>(_ w: WindowShape, columns: UnsafePointer<S>, channels: Range<Int>,
                                        rowStride: Int, columnOffset: Int, into input: UnsafeMutablePointer<S>) {
        let oh = w.outHeight, ow = w.outWidth, ih = w.inHeight, iw = w.inWidth
        for c in channels {
            let plane = input + c * ih * iw
            for ky in 0..<w.kernelHeight {
                for kx in 0..<w.kernelWidth {
                    let row = (c * w.kernelHeight + ky) * w.kernelWidth + kx
                    let src = columns + row * rowStride + columnOffset
                    let dy = ky * w.dilationH - w.padTop, dx = kx * w.dilationW - w.padLeft
                    for y in 0..<oh {
                        let iy = y * w.strideH + dy
                        if iy < 0 || iy >= ih { continue }
                        let dst = plane + iy * iw
                        let col = src + y * ow
                        if w.strideW == 1 {
                            let lo = min(ow, max(0, -dx)), hi = max(lo, min(ow, iw - dx))
                            let d = dst + dx
                            for x in lo..<hi { d[x] += col[x] }
                        } else {
                            for x in 0..<ow {
                                let ix = x * w.strideW + dx
                                if ix >= 0 && ix < iw { dst[ix] += col[x] }
                            }
                        }
                    }
                }
            }
        }
    }
}
