import Testing
@testable import SPDYKernels

/// The direct NCHW16c convolution (`DirectConvolution`) against a convolution in Double, over
/// every input/output/residual layout, the ResNet geometries (1×1, 3×3, strided, the 7×7 stem on
/// a 3-channel NCHW image) and awkward ones (dilation, asymmetric padding, output block counts
/// that leave a partial group of four, tiles spanning rows and images, input channels in several
/// slices), at 1 and 2 threads, with every instruction set this CPU runs (AVX-512 and AVX2).
@Suite("Direct convolution (NCHW16c)", .enabled(if: DirectConvolution.isAvailable))
struct DirectConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        var batch: Int, inChannels: Int, outChannels: Int, size: (h: Int, w: Int), kernel: (h: Int, w: Int)
        var stride = 1, pads = [0, 0, 0, 0], dilation = 1
        var description: String {
            "n\(batch) \(inChannels)→\(outChannels) \(size.h)x\(size.w) k\(kernel.h)x\(kernel.w) s\(stride) p\(pads) d\(dilation)"
        }
        var geometry: ConvGeometry {
            ConvGeometry(batch: batch, inChannels: inChannels, inHeight: size.h, inWidth: size.w, outChannels: outChannels,
                         kernelHeight: kernel.h, kernelWidth: kernel.w, strideH: stride, strideW: stride,
                         padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                         dilationH: dilation, dilationW: dilation)
        }
    }

    static let cases: [Case] = [
        Case(batch: 2, inChannels: 32, outChannels: 64, size: (7, 7), kernel: (1, 1)),
        Case(batch: 1, inChannels: 64, outChannels: 256, size: (14, 14), kernel: (1, 1)),
        Case(batch: 3, inChannels: 16, outChannels: 48, size: (9, 11), kernel: (3, 3), pads: [1, 1, 1, 1]),
        Case(batch: 2, inChannels: 32, outChannels: 80, size: (13, 13), kernel: (3, 3), stride: 2, pads: [1, 1, 1, 1]),
        Case(batch: 2, inChannels: 48, outChannels: 32, size: (8, 8), kernel: (1, 1), stride: 2),
        // A strided 1×1 on odd planes: its blocked input is compacted first (subsampled).
        Case(batch: 3, inChannels: 32, outChannels: 80, size: (9, 7), kernel: (1, 1), stride: 2),
        Case(batch: 2, inChannels: 3, outChannels: 64, size: (23, 23), kernel: (7, 7), stride: 2, pads: [3, 3, 3, 3]),
        Case(batch: 1, inChannels: 16, outChannels: 16, size: (10, 12), kernel: (3, 3), pads: [2, 2, 2, 2], dilation: 2),
        Case(batch: 2, inChannels: 32, outChannels: 112, size: (6, 9), kernel: (3, 2), pads: [0, 1, 2, 0]),
        Case(batch: 5, inChannels: 5, outChannels: 16, size: (5, 4), kernel: (3, 3), pads: [1, 1, 1, 1]),
        // Several slices of input channels (partial sums kept between them) and several chunks.
        Case(batch: 2, inChannels: 256, outChannels: 64, size: (9, 9), kernel: (1, 1)),
        Case(batch: 1, inChannels: 64, outChannels: 32, size: (11, 10), kernel: (3, 3), stride: 2, pads: [1, 1, 1, 1]),
    ]

    /// y[n][o][i][j] = clamp(bias[o] + residual + Σ w[o][c][y][x] · input[n][c][i·s − pad + y·d][j·s − pad + x·d]).
    static func reference(_ g: ConvGeometry, _ x: [Float], _ w: [Float], _ bias: [Float], _ residual: [Float]?,
                          lo: Float, hi: Float) -> [Float] {
        let (oh, ow) = (g.outHeight, g.outWidth)
        var y = [Float](repeating: 0, count: g.batch * g.outChannels * oh * ow)
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var sum = Double(bias[o])
                        for c in 0..<g.inChannels {
                            for ky in 0..<g.kernelHeight {
                                let iy = i * g.strideH - g.padTop + ky * g.dilationH
                                guard iy >= 0, iy < g.inHeight else { continue }
                                for kx in 0..<g.kernelWidth {
                                    let ix = j * g.strideW - g.padLeft + kx * g.dilationW
                                    guard ix >= 0, ix < g.inWidth else { continue }
                                    let wv = w[((o * g.inChannels + c) * g.kernelHeight + ky) * g.kernelWidth + kx]
                                    sum += Double(wv) * Double(x[((n * g.inChannels + c) * g.inHeight + iy) * g.inWidth + ix])
                                }
                            }
                        }
                        let index = ((n * g.outChannels + o) * oh + i) * ow + j
                        if let residual { sum += Double(residual[index]) }
                        y[index] = min(hi, max(lo, Float(sum)))
                    }
                }
            }
        }
        return y
    }

    @Test("equals a Double convolution in every layout", arguments: cases)
    func matchesReference(_ c: Case) {
        let g = c.geometry
        var random = VerifierRandom(seed: UInt64(g.outChannels * 31 + g.inHeight))
        let x = random.values(g.batch * g.inChannels * g.inHeight * g.inWidth)
        let w = random.values(g.outChannels * g.patchSize)
        let bias = random.values(g.outChannels)
        let outPlane = g.outHeight * g.outWidth, count = g.batch * g.outChannels * outPlane
        let residual = random.values(count)
        let inputLayouts = g.inChannels % ChannelBlocking.width == 0 ? [false, true] : [false]
        for inputBlocked in inputLayouts {
            for (withResidual, lo) in [(false, -Float.infinity), (true, Float(0))] {
                let want = Self.reference(g, x, w, bias, withResidual ? residual : nil, lo: lo, hi: .infinity)
                for isa in KernelInstructionSet.available {
                    let conv = KernelInstructionSet.$override.withValue(isa) {
                        DirectConvolution(geometry: g, weights: w, bias: bias, lo: lo, inputBlocked: inputBlocked)
                    }
                    #expect(conv.instructionSet == isa)
                    let input = inputBlocked
                        ? ChannelBlocking.blocked(x, images: g.batch, channels: g.inChannels, plane: g.inHeight * g.inWidth) : x
                    let blockedResidual = ChannelBlocking.blocked(residual, images: g.batch, channels: g.outChannels, plane: outPlane)
                    for outputBlocked in [false, true] {
                        for residualBlocked in withResidual ? [false, true] : [true] {
                            for threads in [1, 2] {
                                var y = [Float](repeating: .nan, count: count)
                                var staging = [Float](repeating: .nan, count: max(1, conv.stagingSize(outputBlocked: outputBlocked)))
                                let r = residualBlocked ? blockedResidual : residual
                                input.withUnsafeBufferPointer { xp in
                                    r.withUnsafeBufferPointer { rp in
                                        y.withUnsafeMutableBufferPointer { yp in
                                            staging.withUnsafeMutableBufferPointer { sp in
                                                conv.run(input: xp.baseAddress!, output: yp.baseAddress!, outputBlocked: outputBlocked,
                                                         residual: withResidual ? rp.baseAddress! : nil, residualBlocked: residualBlocked,
                                                         staging: sp.baseAddress!, pool: ThreadPool(threads: threads))
                                            }
                                        }
                                    }
                                }
                                let got = outputBlocked
                                    ? ChannelBlocking.planar(y, images: g.batch, channels: g.outChannels, plane: outPlane) : y
                                let scale = want.map(abs).max() ?? 1
                                let error = zip(got, want).map { abs($0 - $1) }.max() ?? 0
                                #expect(!got.contains { $0.isNaN } && error <= 1e-5 * max(1, scale),
                                        "\(c) \(isa) input \(inputBlocked ? "blocked" : "NCHW") output \(outputBlocked ? "blocked" : "NCHW") residual \(withResidual ? (residualBlocked ? "blocked" : "NCHW") : "none") threads \(threads): error \(error)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("channel blocking round-trips")
    func roundTrip() {
        var random = VerifierRandom(seed: 7)
        let x = random.values(2 * 32 * 15)
        let blocked = ChannelBlocking.blocked(x, images: 2, channels: 32, plane: 15)
        #expect(blocked != x)
        // Position p, channel c of block b of image n: ((n · 2 + b) · 15 + p) · 16 + c mod 16.
        #expect(blocked[1] == x[15] && blocked[16] == x[1] && blocked[(1 * 15 + 2) * 16 + 3] == x[(16 + 3) * 15 + 2])
        #expect(blocked[(2 * 15 + 4) * 16 + 5] == x[(32 + 5) * 15 + 4])
        #expect(ChannelBlocking.planar(blocked, images: 2, channels: 32, plane: 15) == x)
    }
}
