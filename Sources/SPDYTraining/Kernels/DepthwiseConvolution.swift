import RealModule
import SPDYKernels

/// Direct loops for depthwise convolutions (each group one input and one output channel), where
/// a patch-matrix product would be a 1 × kh·kw × P sliver.
enum DepthwiseConvolution {
    /// The output columns x with 0 ≤ x·stride + dx < width.
    @inline(__always)
    static func columns(_ w: WindowShape, offset dx: Int) -> Range<Int> {
        let s = w.strideW
        let lo = dx >= 0 ? 0 : (-dx + s - 1) / s
        let hi = w.inWidth - dx > 0 ? min(w.outWidth, (w.inWidth - dx - 1) / s + 1) : 0
        return lo < hi ? lo..<hi : 0..<0
    }

    /// y[n, c] = x[n, c] ⋆ w[c] (no bias), planes split over threads.
    static func forward<S: TrainingScalar>(_ w: WindowShape, x: UnsafePointer<S>, w weights: UnsafePointer<S>,
                                           y: UnsafeMutablePointer<S>, pool: ThreadPool) {
        let planes = w.batch * w.channels
        pool.parallelFor(planes, grain: 1) { range in
            for plane in range {
                let c = plane % w.channels
                let src = x + plane * w.inPlane, dst = y + plane * w.outPlane, k = weights + c * w.taps
                dst.update(repeating: 0, count: w.outPlane)
                for ky in 0..<w.kernelHeight {
                    for kx in 0..<w.kernelWidth {
                        let wv = k[ky * w.kernelWidth + kx]
                        let dx = kx * w.dilationW - w.padLeft
                        let xs = columns(w, offset: dx)
                        if xs.isEmpty { continue }
                        for oy in 0..<w.outHeight {
                            let iy = oy * w.strideH + ky * w.dilationH - w.padTop
                            if iy < 0 || iy >= w.inHeight { continue }
                            let row = dst + oy * w.outWidth, srcRow = src + iy * w.inWidth + dx
                            if w.strideW == 1 {
                                for ox in xs { row[ox] += wv * srcRow[ox] }
                            } else {
                                for ox in xs { row[ox] += wv * srcRow[ox * w.strideW] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dx[n, c] += dy[n, c] ⋆ᵀ w[c] and dw[c] = Σₙ dy[n, c] ⋆ x[n, c]; either may be nil.
    static func backward<S: TrainingScalar>(_ w: WindowShape, x: UnsafePointer<S>?, w weights: UnsafePointer<S>,
                                            dy: UnsafePointer<S>, dx: UnsafeMutablePointer<S>?, dw: UnsafeMutablePointer<S>?,
                                            pool: ThreadPool) {
        if let dx {
            let planes = w.batch * w.channels
            pool.parallelFor(planes, grain: 1) { range in
                for plane in range {
                    let c = plane % w.channels
                    let g = dy + plane * w.outPlane, d = dx + plane * w.inPlane, k = weights + c * w.taps
                    for ky in 0..<w.kernelHeight {
                        for kx in 0..<w.kernelWidth {
                            let wv = k[ky * w.kernelWidth + kx]
                            let offset = kx * w.dilationW - w.padLeft
                            let xs = columns(w, offset: offset)
                            if xs.isEmpty { continue }
                            for oy in 0..<w.outHeight {
                                let iy = oy * w.strideH + ky * w.dilationH - w.padTop
                                if iy < 0 || iy >= w.inHeight { continue }
                                let row = g + oy * w.outWidth, dstRow = d + iy * w.inWidth + offset
                                if w.strideW == 1 {
                                    for ox in xs { dstRow[ox] += wv * row[ox] }
                                } else {
                                    for ox in xs { dstRow[ox * w.strideW] += wv * row[ox] }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let dw, let x {
            pool.parallelFor(w.channels, grain: 1) { range in
                for c in range {
                    for ky in 0..<w.kernelHeight {
                        for kx in 0..<w.kernelWidth {
                            let offset = kx * w.dilationW - w.padLeft
                            let xs = columns(w, offset: offset)
                            var acc: S = 0
                            if !xs.isEmpty {
                                for n in 0..<w.batch {
                                    let plane = n * w.channels + c
                                    let g = dy + plane * w.outPlane, src = x + plane * w.inPlane
                                    for oy in 0..<w.outHeight {
                                        let iy = oy * w.strideH + ky * w.dilationH - w.padTop
                                        if iy < 0 || iy >= w.inHeight { continue }
                                        let row = g + oy * w.outWidth, srcRow = src + iy * w.inWidth + offset
                                        if w.strideW == 1 {
                                            for ox in xs { acc = Relaxed.multiplyAdd(row[ox], srcRow[ox], acc) }
                                        } else {
                                            for ox in xs { acc = Relaxed.multiplyAdd(row[ox], srcRow[ox * w.strideW], acc) }
                                        }
                                    }
                                }
                            }
                            dw[c * w.taps + ky * w.kernelWidth + kx] = acc
                        }
                    }
                }
            }
        }
    }
}
