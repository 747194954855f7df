import SPDYKernels

/// Max or average pooling over NCHW windows (global pooling is a window over the whole plane).
final class PoolStep: SingleInputStep {
    enum Kind { case max, average(countIncludePad: Bool) }

    let nodeName: String
    let kind: Kind
    let geometry: ConvGeometry
    let input: Int, output: Int

    init(nodeName: String, kind: Kind, geometry: ConvGeometry, input: Int, output: Int) {
        self.nodeName = nodeName
        self.kind = kind
        self.geometry = geometry
        self.input = input; self.output = output
    }

    var kernel: String {
        let g = geometry
        switch kind {
        case .max: return "MaxPool \(g.kernelHeight)x\(g.kernelWidth)/\(g.strideH)"
        case .average: return "AveragePool \(g.kernelHeight)x\(g.kernelWidth)/\(g.strideH)"
        }
    }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let x = UnsafePointer(memory.pointer(input)), y = memory.pointer(output)
        let g = geometry, kind = kind
        let (ih, iw, oh, ow) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        if case .max = kind {
            pool.parallelFor(g.batch * g.inChannels, grain: 4) { range in
                for nc in range { PoolStep.maxPlane(g, x + nc * ih * iw, y + nc * oh * ow) }
            }
            return
        }
        pool.parallelFor(g.batch * g.inChannels, grain: 4) { range in
            for nc in range {
                let src = x + nc * ih * iw, dst = y + nc * oh * ow
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let y0 = oy * g.strideH - g.padTop, x0 = ox * g.strideW - g.padLeft
                        var best = -Float.infinity, sum: Float = 0, n = 0
                        for ky in 0..<g.kernelHeight {
                            let iy = y0 + ky * g.dilationH
                            if iy < 0 || iy >= ih { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = x0 + kx * g.dilationW
                                if ix < 0 || ix >= iw { continue }
                                let v = src[iy * iw + ix]
                                best = max(best, v)
                                sum += v
                                n += 1
                            }
                        }
                        switch kind {
                        case .max: dst[oy * ow + ox] = best
                        case .average(let includePad):
                            var denominator = n
                            if includePad {
                                // Window clipped to the padded input (not beyond the pads).
                                let hEnd = min(y0 + g.kernelHeight, ih + g.padBottom), wEnd = min(x0 + g.kernelWidth, iw + g.padRight)
                                denominator = (hEnd - y0) * (wEnd - x0)
                            }
                            dst[oy * ow + ox] = sum / Float(max(denominator, 1))
                        }
                    }
                }
            }
        }
    }
}

extension PoolStep {
    /// Max pooling of one plane: output columns whose window lies inside the image horizontally
    /// run without bounds checks; only the border columns check.
    static func maxPlane(_ g: ConvGeometry, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        let (ih, iw, oh, ow) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (kh, kw, sw, dw) = (g.kernelHeight, g.kernelWidth, g.strideW, g.dilationW)
        // Interior columns: x0 = ox·sw − padLeft ≥ 0 and x0 + (kw−1)·dw < iw.
        let interiorLo = min(ow, (g.padLeft + sw - 1) / sw)
        let lastStart = iw - 1 - (kw - 1) * dw + g.padLeft
        let interiorHi = max(interiorLo, min(ow, lastStart < 0 ? 0 : lastStart / sw + 1))
        for oy in 0..<oh {
            let y0 = oy * g.strideH - g.padTop
            let out = dst + oy * ow
            func border(_ ox: Int) {
                let x0 = ox * sw - g.padLeft
                var best = -Float.infinity
                for ky in 0..<kh {
                    let iy = y0 + ky * g.dilationH
                    if iy < 0 || iy >= ih { continue }
                    for kx in 0..<kw {
                        let ix = x0 + kx * dw
                        if ix >= 0 && ix < iw { best = max(best, src[iy * iw + ix]) }
                    }
                }
                out[ox] = best
            }
            for ox in 0..<interiorLo { border(ox) }
            for ox in interiorLo..<interiorHi { out[ox] = -.infinity }
            for ky in 0..<kh {
                let iy = y0 + ky * g.dilationH
                if iy < 0 || iy >= ih { continue }
                let row = src + iy * iw - g.padLeft
                for ox in interiorLo..<interiorHi {
                    let p = row + ox * sw
                    var best = out[ox]
                    for kx in 0..<kw { best = max(best, p[kx * dw]) }
                    out[ox] = best
                }
            }
            for ox in interiorHi..<ow { border(ox) }
        }
    }
}

/// Mean over each plane of NCHW data (GlobalAveragePool; ReduceMean over H and W).
final class GlobalAveragePoolStep: SingleInputStep {
    let nodeName: String
    let planes: Int, planeSize: Int
    let input: Int, output: Int

    init(nodeName: String, planes: Int, planeSize: Int, input: Int, output: Int) {
        self.nodeName = nodeName
        self.planes = planes; self.planeSize = planeSize
        self.input = input; self.output = output
    }

    var kernel: String { "GlobalAveragePool" }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let x = UnsafePointer(memory.pointer(input)), y = memory.pointer(output)
        let size = planeSize
        pool.parallelFor(planes, grain: 16) { range in
            for p in range {
                y[p] = VectorMath.sum(x + p * size, count: size) / Float(size)
            }
        }
    }
}
