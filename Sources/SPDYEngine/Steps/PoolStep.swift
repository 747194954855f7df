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
    /// Max pooling of one plane, an output row at a time: the window's input rows are reduced
    /// vertically with vector maxima into a row with the padding as -inf, then that row is
    /// reduced horizontally (vectors for strides 1 and 2, where the even lanes of a 16-lane load
    /// are a stride-2 gather; scalar otherwise). A window entirely in the padding gives -inf.
    static func maxPlane(_ g: ConvGeometry, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        let (ih, iw, oh, ow) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (kw, sw, dw) = (g.kernelWidth, g.strideW, g.dilationW)
        // Padded columns the windows read, plus slack for whole-vector loads.
        let width = (ow - 1) * sw + (kw - 1) * dw + 1
        let inside = max(0, min(iw, width - g.padLeft))  // input columns that land in the row
        withUnsafeTemporaryAllocation(of: Float.self, capacity: width + 2 * V.scalarCount) { buffer in
            let row = buffer.baseAddress!
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
            buffer.initialize(repeating: -.infinity)
            for oy in 0..<oh {
                (row + g.padLeft).update(repeating: -.infinity, count: inside)
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                    guard iy >= 0 && iy < ih else { continue }
                    let line = src + iy * iw, target = row + g.padLeft
                    var j = 0
                    while j + V.scalarCount <= inside {
                        let (v, best) = (load(line + j), load(target + j))
                        UnsafeMutableRawPointer(target + j).storeBytes(of: best.replacing(with: v, where: v .> best), as: V.self)
                        j += V.scalarCount
                    }
                    while j < inside {
                        if line[j] > target[j] { target[j] = line[j] }
                        j += 1
                    }
                }
                let out = dst + oy * ow
                var ox = 0
                if sw <= 2 {
                    // Eight outputs per step: lanes 0..<8 (stride 1) or the even lanes (stride 2).
                    while ox + 8 <= ow {
                        var best = SIMD8<Float>(repeating: -.infinity)
                        for kx in 0..<kw {
                            let v = load(row + ox * sw + kx * dw)
                            let taps = sw == 1 ? v.lowHalf : v.evenHalf
                            best.replace(with: taps, where: taps .> best)
                        }
                        UnsafeMutableRawPointer(out + ox).storeBytes(of: best, as: SIMD8<Float>.self)
                        ox += 8
                    }
                }
                while ox < ow {
                    var best = -Float.infinity
                    for kx in 0..<kw where row[ox * sw + kx * dw] > best { best = row[ox * sw + kx * dw] }
                    out[ox] = best
                    ox += 1
                }
            }
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
