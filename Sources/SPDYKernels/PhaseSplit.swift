/// A strided convolution rewritten as a stride-1 one over its input split into stride phases
/// (space-to-depth): with stride s, the padded input's pixel (s·a + py, s·b + px) goes to plane
/// (py, px) at (a, b). Tap (ky, kx) of output (oy, ox) reads padded pixel (s·oy + ky·d, s·ox + kx·d),
/// which is pixel (oy + ⌊ky·d/s⌋, ox + ⌊kx·d/s⌋) of phase ((ky·d) mod s, (kx·d) mod s): a stride-1,
/// unpadded convolution over the phase planes with a ⌈k/s⌉-sized kernel whose missing taps are
/// zero weights (free in a sparse matrix).
///
/// So a strided layer runs on the sparse kernel's `pointwise` or `direct` method, whose tiles are
/// packed by contiguous row copies, instead of gathering every im2col element one by one (which
/// cost more than the multiply itself at 90% sparsity). The split is one pass over the input.
/// Only the phases some tap reads are stored (a 1×1 stride-2 shortcut keeps one of four).
struct PhaseSplit: Sendable {
    /// The original per-group geometry (groups = 1).
    let original: ConvGeometry
    /// The equivalent stride-1, unpadded geometry over the phase planes (groups = 1).
    let split: ConvGeometry
    /// Row and column phases some tap reads, in plane order (plane = rowPhase · columns + columnPhase).
    let rowPhases: [Int], columnPhases: [Int]

    init(_ g: ConvGeometry) {
        original = g
        let rowOffsets = (0..<g.kernelHeight).map { $0 * g.dilationH }, columnOffsets = (0..<g.kernelWidth).map { $0 * g.dilationW }
        rowPhases = Array(Set(rowOffsets.map { $0 % g.strideH })).sorted()
        columnPhases = Array(Set(columnOffsets.map { $0 % g.strideW })).sorted()
        let kh = rowOffsets.last! / g.strideH + 1, kw = columnOffsets.last! / g.strideW + 1
        split = ConvGeometry(batch: g.batch, inChannels: rowPhases.count * columnPhases.count * g.inChannels,
                             inHeight: g.outHeight + kh - 1, inWidth: g.outWidth + kw - 1, outChannels: g.outChannels,
                             kernelHeight: kh, kernelWidth: kw)
    }

    /// The weight [O × C·kh·kw] rearranged for `split`: [O × planes·C·kh'·kw'], zeros where no tap lands.
    func weight(_ w: UnsafePointer<Float>) -> [Float] {
        let g = original, s = split
        var out = [Float](repeating: 0, count: s.outChannels * s.patchSize)
        for o in 0..<g.outChannels {
            for c in 0..<g.inChannels {
                for ky in 0..<g.kernelHeight {
                    let ry = ky * g.dilationH, py = rowPhases.firstIndex(of: ry % g.strideH)!
                    for kx in 0..<g.kernelWidth {
                        let rx = kx * g.dilationW, px = columnPhases.firstIndex(of: rx % g.strideW)!
                        let plane = py * columnPhases.count + px
                        let column = ((plane * g.inChannels + c) * s.kernelHeight + ry / g.strideH) * s.kernelWidth + rx / g.strideW
                        out[o * s.patchSize + column] = w[((o * g.inChannels + c) * g.kernelHeight + ky) * g.kernelWidth + kx]
                    }
                }
            }
        }
        return out
    }

    /// Floats of one image's phase planes (one group).
    var splitImageSize: Int { split.inChannels * split.inHeight * split.inWidth }

    /// Writes the phase planes of input channels `channels` of one image (`x`: the group's
    /// [C × H × W] planes) into `y` (`splitImageSize` floats, all planes of the image).
    func split(_ x: UnsafePointer<Float>, channels: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let g = original, s = split
        let (ih, iw, hp, wp) = (g.inHeight, g.inWidth, s.inHeight, s.inWidth)
        let splitPlane = hp * wp
        for (pyIndex, py) in rowPhases.enumerated() {
            for (pxIndex, px) in columnPhases.enumerated() {
                let planeIndex = pyIndex * columnPhases.count + pxIndex
                // Columns b whose input column sw·b + px − padLeft lies inside the image.
                let first = px - g.padLeft
                let bLo = first >= 0 ? 0 : min(wp, (-first + g.strideW - 1) / g.strideW)
                let bHi = iw - first <= 0 ? bLo : max(bLo, min(wp, (iw - 1 - first) / g.strideW + 1))
                for c in channels {
                    let src = x + c * ih * iw, dst = y + (planeIndex * g.inChannels + c) * splitPlane
                    for a in 0..<hp {
                        let row = dst + a * wp, iy = g.strideH * a + py - g.padTop
                        guard iy >= 0 && iy < ih else {
                            row.update(repeating: 0, count: wp)
                            continue
                        }
                        if bLo > 0 { row.update(repeating: 0, count: bLo) }
                        let line = src + iy * iw + first
                        if g.strideW == 1 {
                            (row + bLo).update(from: line + bLo, count: bHi - bLo)
                        } else if g.strideW == 2 {
                            for b in bLo..<bHi { row[b] = line[2 * b] }
                        } else {
                            for b in bLo..<bHi { row[b] = line[g.strideW * b] }
                        }
                        if bHi < wp { (row + bHi).update(repeating: 0, count: wp - bHi) }
                    }
                }
            }
        }
    }
}
