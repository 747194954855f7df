/// The patch matrix of a convolution (im2col) and its adjoint (col2im).
///
/// For one image and one group the matrix has `channels·kh·kw` rows (channel-major, then kernel
/// row, kernel column) and `OH·OW` columns; several images sit side by side in one wider matrix
/// (`rowStride` = images·OH·OW, image b at column offset b·OH·OW), so one product covers them.
///
/// Each matrix row is the input plane shifted by the tap's offset (dy, dx), zero outside the
/// image. With stride 1 and OW = IW (a "same"-width window) the shift is one contiguous copy of
/// the valid rows followed by zeroing the |dx| border columns, instead of one short copy per
/// output row; other windows go row by row.
enum ConvolutionColumns {
    /// Whether rows of the patch matrix are contiguous shifts of the input plane.
    @inline(__always)
    static func contiguous(_ w: WindowShape) -> Bool { w.strideH == 1 && w.strideW == 1 && w.outWidth == w.inWidth }

    /// Writes the rows of input channels `channels` of one image (`input` points at the group's
    /// first channel, CHW) into `columns` at column offset `columnOffset`. Out-of-image taps are 0.
    static func unfold<S: TrainingScalar>(_ w: WindowShape, input: UnsafePointer<S>, channels: Range<Int>,
                                          columns: UnsafeMutablePointer<S>, rowStride: Int, columnOffset: Int) {
        let oh = w.outHeight, ow = w.outWidth, ih = w.inHeight, iw = w.inWidth
        let fast = contiguous(w)
        for c in channels {
            let plane = input + c * ih * iw
            for ky in 0..<w.kernelHeight {
                for kx in 0..<w.kernelWidth {
                    let row = (c * w.kernelHeight + ky) * w.kernelWidth + kx
                    let dst = columns + row * rowStride + columnOffset
                    let dy = ky * w.dilationH - w.padTop, dx = kx * w.dilationW - w.padLeft
                    if fast {
                        unfoldShift(dst: dst, plane: plane, oh: oh, ow: ow, ih: ih, dy: dy, dx: dx)
                        continue
                    }
                    for y in 0..<oh {
                        let iy = y * w.strideH + dy
                        let out = dst + y * ow
                        if iy < 0 || iy >= ih {
                            for x in 0..<ow { out[x] = 0 }
                            continue
                        }
                        let src = plane + iy * iw
                        if w.strideW == 1 {
                            let lo = min(ow, max(0, -dx)), hi = max(lo, min(ow, iw - dx))
                            for x in 0..<lo { out[x] = 0 }
                            let shifted = src + dx
                            for x in lo..<hi { out[x] = shifted[x] }
                            for x in hi..<ow { out[x] = 0 }
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

    /// The valid output rows [lo, hi) of a stride-1 shift by dy, and the columns outside the
    /// image at the left (`left`) and right (`right`) for a shift by dx (OW = IW).
    @inline(__always)
    private static func bounds(oh: Int, ow: Int, ih: Int, dy: Int, dx: Int) -> (lo: Int, hi: Int, left: Int, right: Int) {
        let lo = min(oh, max(0, -dy)), hi = max(lo, min(oh, ih - dy))
        return (lo, hi, min(ow, max(0, -dx)), min(ow, max(0, dx)))
    }

    /// One matrix row of a stride-1, OW = IW window: dst[y·ow + x] = plane[(y+dy)·iw + x + dx].
    @inline(__always)
    private static func unfoldShift<S: TrainingScalar>(dst: UnsafeMutablePointer<S>, plane: UnsafePointer<S>,
                                                       oh: Int, ow: Int, ih: Int, dy: Int, dx: Int) {
        let (lo, hi, left, right) = bounds(oh: oh, ow: ow, ih: ih, dy: dy, dx: dx)
        (dst).update(repeating: 0, count: lo * ow)
        (dst + hi * ow).update(repeating: 0, count: (oh - hi) * ow)
        guard hi > lo else { return }
        // One copy over all valid rows; it stays inside the plane because it starts `left`
        // columns in and stops `right` columns early. The border columns it fills with values
        // of neighbouring rows are zeroed after.
        let start = lo * ow + left, length = (hi - lo) * ow - left - right
        if length > 0 { (dst + start).update(from: plane + start + dy * ow + dx, count: length) }
        if left > 0 || right > 0 {
            for y in lo..<hi {
                let r = dst + y * ow
                for x in 0..<left { r[x] = 0 }
                for x in (ow - right)..<ow { r[x] = 0 }
            }
        }
    }

    /// Adds the rows of input channels `channels` of `columns` (at column offset `columnOffset`)
    /// back onto the image positions they were read from: the adjoint of `unfold`. In the
    /// contiguous case the border columns of `columns` are zeroed first (it is scratch).
    static func fold<S: TrainingScalar>(_ w: WindowShape, columns: UnsafeMutablePointer<S>, channels: Range<Int>,
                                        rowStride: Int, columnOffset: Int, into input: UnsafeMutablePointer<S>) {
        let oh = w.outHeight, ow = w.outWidth, ih = w.inHeight, iw = w.inWidth
        let fast = contiguous(w)
        for c in channels {
            let plane = input + c * ih * iw
            for ky in 0..<w.kernelHeight {
                for kx in 0..<w.kernelWidth {
                    let row = (c * w.kernelHeight + ky) * w.kernelWidth + kx
                    let src = columns + row * rowStride + columnOffset
                    let dy = ky * w.dilationH - w.padTop, dx = kx * w.dilationW - w.padLeft
                    if fast {
                        let (lo, hi, left, right) = bounds(oh: oh, ow: ow, ih: ih, dy: dy, dx: dx)
                        guard hi > lo else { continue }
                        if left > 0 || right > 0 {
                            for y in lo..<hi {
                                let r = src + y * ow
                                for x in 0..<left { r[x] = 0 }
                                for x in (ow - right)..<ow { r[x] = 0 }
                            }
                        }
                        let start = lo * ow + left, length = (hi - lo) * ow - left - right
                        let s = src + start, d = plane + start + dy * ow + dx
                        for i in 0..<max(0, length) { d[i] += s[i] }
                        continue
                    }
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
