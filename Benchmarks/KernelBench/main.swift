// Dense product kernels side by side: OpenBLAS sgemm against our packed micro-kernel, on the
// shapes convolutions and linear layers produce. Prints GFLOP/s of each and the ratio.
// Run: swift run -c release -Xswiftc -enable-testing kernel-bench [threads]
// On CPUs Debian's OpenBLAS does not know (this workplace's AVX-512 Xeon VMs) set
// OPENBLAS_CORETYPE=SkylakeX (or Haswell) yourself: `spdy` does it (BLASCoreSelection), this
// program does not, and OpenBLAS would run its SSE3 kernels.
// The packed micro-kernel runs with the detected instruction set; `packed-avx2` forces AVX2.
// (Sparse kernels against OpenBLAS: `spdy bench kernels`.)
import Dispatch
import Foundation
import SPDYKernels

let threads = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1 : 1
let pool = ThreadPool(threads: threads)
let shapes: [(String, Int, Int, Int)] = [
    ("demo layer1 3x3", 16, 144, 784), ("demo layer3 3x3", 64, 576, 49 * 8), ("rn50 layer1 1x1", 64, 256, 3136),
    ("rn50 layer3 3x3", 256, 2304, 196), ("rn50 layer4 1x1", 512, 2048, 49), ("bert 384x384", 384, 384, 1024),
    ("bert 1536x384", 1536, 384, 1024),
]

func median(_ body: () -> Void) -> Double {
    for _ in 0..<3 { body() }
    var samples: [Double] = []
    for _ in 0..<15 {
        let t = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
    }
    return samples.sorted()[samples.count / 2]
}

/// `kernel-bench T attention` runs only the attention section.
let only = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : nil

print("threads \(threads)")
if only == nil { print("shape                 M     K     N   openblas GF/s  packed GF/s  ratio   packed-avx2 GF/s") }
for (name, m, k, n) in only == nil ? shapes : [] {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k), b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
    for i in 0..<(m * k) { a[i] = Float(i % 7) - 3 }
    for i in 0..<(k * n) { b[i] = Float(i % 5) - 2 }
    let packed = PackedMatrix(rows: m, depth: k, a: a, lda: k)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: packed.scratchPerThread * threads)
    let flops = 2.0 * Double(m * k * n)
    let blas = median { GEMM.sgemm(pool: pool, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n) }
    let ours = median { packed.multiply(n: n, b: b, ldb: n, c: c, ldc: n, scratch: scratch, pool: pool) }
    let avx2 = median { packed.multiply(n: n, b: b, ldb: n, c: c, ldc: n, scratch: scratch, pool: pool, instructionSet: .avx2) }
    let blasRate: Double = flops / blas / 1e9
    let oursRate: Double = flops / ours / 1e9
    let ratio: Double = blas / ours
    let label = name.padding(toLength: 18, withPad: " ", startingAt: 0)
    let figures = String(format: "%5d %5d %5d   %8.1f      %8.1f    %5.2f×  %8.1f", m, k, n, blasRate, oursRate, ratio,
                         flops / avx2 / 1e9)
    print(label + figures)
    packed.deallocate(); a.deallocate(); b.deallocate(); c.deallocate(); scratch.deallocate()
}


// Depthwise convolution (EfficientNet-Lite0 shapes at batch 8), one thread: GMAC/s.

/// The depthwise loop the engine used until session 4 (one tap at a time over each output row),
/// kept here as the comparison.
func previousDepthwise(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                       output: UnsafeMutablePointer<Float>, image n: Int, channels: Range<Int>) {
    let bias: UnsafePointer<Float>? = nil
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

if only == nil { print("\ndepthwise (1 thread)          C    H    W  k  s   previous GMAC/s   now GMAC/s") }
for (name, c, h, k, s) in only != nil ? [] : [("effnet blocks.0", 32, 112, 3, 1), ("effnet blocks.1", 96, 112, 3, 2), ("effnet blocks.2", 144, 56, 3, 1),
                           ("effnet blocks.3", 144, 56, 5, 2), ("effnet blocks.4", 240, 28, 5, 1), ("effnet blocks.12", 672, 7, 5, 1)] {
    let g = ConvGeometry(batch: 8, inChannels: c, inHeight: h, inWidth: h, outChannels: c, kernelHeight: k, kernelWidth: k,
                         strideH: s, strideW: s, padTop: k / 2, padLeft: k / 2, padBottom: k / 2, padRight: k / 2,
                         dilationH: 1, dilationW: 1, groups: c)
    let input = UnsafeMutablePointer<Float>.allocate(capacity: 8 * c * h * h)
    let output = UnsafeMutablePointer<Float>.allocate(capacity: 8 * c * g.outHeight * g.outWidth)
    let weight = UnsafeMutablePointer<Float>.allocate(capacity: c * k * k)
    for i in 0..<(8 * c * h * h) { input[i] = Float(i % 13) - 6 }
    for i in 0..<(c * k * k) { weight[i] = Float(i % 5) - 2 }
    let previous = median {
        for n in 0..<8 { previousDepthwise(g, input: input, weight: weight, output: output, image: n, channels: 0..<c) }
    }
    let seconds = median {
        for n in 0..<8 { DepthwiseConv.run(g, input: input, weight: weight, bias: nil, output: output, image: n, channels: 0..<c) }
    }
    let label = name.padding(toLength: 26, withPad: " ", startingAt: 0)
    print(label + String(format: "%5d %4d %4d %2d %2d %12.2f %12.2f", c, h, h, k, s, Double(g.macs) / previous / 1e9,
                         Double(g.macs) / seconds / 1e9))
    input.deallocate(); output.deallocate(); weight.deallocate()
}

// Sparse Linear epilogues (MiniLM's FFN at 8×128 tokens, 90% sparse): the product alone, with
// bias, with bias + exact GELU; and GELU alone over the same output. Per instruction set.
if only == nil {
    let (tokens, inF, outF) = (1024, 384, 1536)
    var state: UInt64 = 0x9E37_79B9
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
    }
    let x = (0..<(tokens * inF)).map { _ in next() }
    var w = (0..<(inF * outF)).map { _ in next() }
    let threshold = w.map { abs($0) }.sorted()[Int(0.9 * Double(w.count))]
    for i in w.indices where abs(w[i]) < threshold { w[i] = 0 }
    let bias = (0..<outF).map { _ in next() }
    var y = [Float](repeating: 0, count: tokens * outF)
    print("\nsparse Linear \(inF)->\(outF) x\(tokens) at 90%, \(threads) thread(s): ms")
    print("isa      product   +bias  +bias+GELU   GELU alone (1 thread)")
    for isa in KernelInstructionSet.available {
        SparseMatrix.instructionSet = isa
        let layer = w.withUnsafeBufferPointer {
            SparseLinear(weight: $0.baseAddress!, inFeatures: inF, outFeatures: outF, transposed: false, threads: threads)
        }
        func time(_ epilogue: KernelEpilogue) -> Double {
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                median { layer.run(n: tokens, x: xp.baseAddress!, y: yp.baseAddress!, epilogue: epilogue, pool: pool) }
            } }
        }
        let plain = time(.identity)
        let (biased, gelu) = bias.withUnsafeBufferPointer { b in
            (time(KernelEpilogue(bias: b.baseAddress!)), time(KernelEpilogue(bias: b.baseAddress!, gelu: true)))
        }
        let alone = y.withUnsafeMutableBufferPointer { yp in
            median { VectorMath.gelu(yp.baseAddress!, yp.baseAddress!, count: yp.count) }
        }
        print(isa.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
              + String(format: "%8.3f %8.3f %10.3f %12.3f", plain * 1e3, biased * 1e3, gelu * 1e3, alone * 1e3))
    }
}

// Fused attention as pruned MiniLM runs it at 8×128 tokens: 12 heads of depth 32, a padding mask,
// Q/K/V feature-major (sparse Linear outputs), the output token-blocked. GFLOP/s counts the two
// products (4·B·H·Sq·Sk·D).
do {
    let (batch, heads, seq, depth) = (8, 12, 128, 32)
    let tokens = batch * seq, width = heads * depth
    var state: UInt64 = 0x51_7CC1
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 500
    }
    let fm = ActivationLayout.featureMajor(rowStride: ActivationLayout.paddedRowStride(tokens: tokens))
    let out = ActivationLayout.tokenBlocked(width: 128)
    let q = (0..<fm.storage(tokens: tokens, features: width)).map { _ in next() }
    let k = (0..<q.count).map { _ in next() }, v = (0..<q.count).map { _ in next() }
    let mask = (0..<(batch * seq)).map { $0 % seq < seq - 9 ? Float(0) : -10_000 }
    var y = [Float](repeating: 0, count: out.storage(tokens: tokens, features: width))
    let flops = 4.0 * Double(batch * heads * seq * seq * depth)
    print("\nfused attention \(batch)x\(heads) \(seq)x\(seq)x\(depth), fm in, blocked out, \(threads) thread(s)")
    print("isa      ms      GFLOP/s")
    for isa in KernelInstructionSet.available {
        let attention = FusedAttention(batch: batch, heads: heads, queryLength: seq, keyLength: seq, depth: depth,
                                       scale: 1 / Float(depth).squareRoot(),
                                       maskLayout: FusedAttention.MaskLayout(batchStride: seq, headStride: 0, rowStride: 0),
                                       threads: threads, layouts: (fm, fm, fm, out))
        let seconds = q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            mask.withUnsafeBufferPointer { mp in y.withUnsafeMutableBufferPointer { yp in
                median {
                    attention.run(q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, mask: mp.baseAddress!,
                                  out: yp.baseAddress!, pool: pool, instructionSet: isa)
                }
            } }
        } } }
        print(isa.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: "%7.3f %9.1f", seconds * 1e3, flops / seconds / 1e9))
    }
}

// Direct NCHW16c convolutions (`DirectConvolution`, every instruction set this CPU runs) on
// ResNet-50's shapes at batch 16, against OpenBLAS on the same product (M = out channels, K = patch, N = positions; no im2col, which
// the old path also paid): `kernel-bench T conv`.
if only == "conv", DirectConvolution.isAvailable {
    let batch = Int(ProcessInfo.processInfo.environment["KERNEL_BENCH_BATCH"] ?? "") ?? 16
    let convs: [(String, ConvGeometry)] = [
        ("l1 1x1 64->64", ConvGeometry(batch: batch, inChannels: 64, inHeight: 56, inWidth: 56, outChannels: 64, kernelHeight: 1, kernelWidth: 1)),
        ("l1 3x3 64->64", ConvGeometry(batch: batch, inChannels: 64, inHeight: 56, inWidth: 56, outChannels: 64, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
        ("l1 1x1 64->256", ConvGeometry(batch: batch, inChannels: 64, inHeight: 56, inWidth: 56, outChannels: 256, kernelHeight: 1, kernelWidth: 1)),
        ("l2 1x1 256->128", ConvGeometry(batch: batch, inChannels: 256, inHeight: 56, inWidth: 56, outChannels: 128, kernelHeight: 1, kernelWidth: 1)),
        ("l3 3x3 256->256", ConvGeometry(batch: batch, inChannels: 256, inHeight: 14, inWidth: 14, outChannels: 256, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
        ("l3 1x1 1024->256", ConvGeometry(batch: batch, inChannels: 1024, inHeight: 14, inWidth: 14, outChannels: 256, kernelHeight: 1, kernelWidth: 1)),
        ("l3 ds 1x1/2 512->1024", ConvGeometry(batch: batch, inChannels: 512, inHeight: 28, inWidth: 28, outChannels: 1024, kernelHeight: 1, kernelWidth: 1, strideH: 2, strideW: 2)),
        ("l4 1x1 1024->512", ConvGeometry(batch: batch, inChannels: 1024, inHeight: 14, inWidth: 14, outChannels: 512, kernelHeight: 1, kernelWidth: 1)),
        ("l4 3x3 512->512", ConvGeometry(batch: batch, inChannels: 512, inHeight: 7, inWidth: 7, outChannels: 512, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
        ("l4 1x1 2048->512", ConvGeometry(batch: batch, inChannels: 2048, inHeight: 7, inWidth: 7, outChannels: 512, kernelHeight: 1, kernelWidth: 1)),
    ]
    let isas = KernelInstructionSet.available.reversed()
    print("\ndirect NCHW16c convolutions, batch \(batch), \(threads) thread(s); sgemm/direct for the widest")
    print("shape                  " + isas.map { "\($0.rawValue) ms".padding(toLength: 10, withPad: " ", startingAt: 0) + "  GF/s  " }.joined()
          + " sgemm ms  GF/s   sgemm/direct")
    for (name, g) in convs {
        let inCount = g.batch * g.inChannels * g.inHeight * g.inWidth
        let plane = g.outHeight * g.outWidth, outCount = g.batch * g.outChannels * plane
        let x = AlignedFloats.allocate(inCount), y = AlignedFloats.allocate(outCount)
        for i in 0..<inCount { x[i] = Float(i % 7) - 3 }
        let w = (0..<(g.outChannels * g.patchSize)).map { Float($0 % 5) - 2 }
        let directs = isas.map { isa in
            let conv = KernelInstructionSet.$override.withValue(isa) {
                DirectConvolution(geometry: g, weights: w, bias: nil, lo: 0, inputBlocked: true)
            }
            let staging = AlignedFloats.allocate(max(1, conv.stagingSize(outputBlocked: true)))
            defer { staging.deallocate() }
            return median { conv.run(input: x, output: y, outputBlocked: true, staging: staging, pool: pool) }
        }
        let direct = directs[0]
        let b = AlignedFloats.allocate(g.patchSize * plane * g.batch)
        for i in 0..<(g.patchSize * plane * g.batch) { b[i] = Float(i % 5) - 2 }
        let n = plane * g.batch
        let blas = w.withUnsafeBufferPointer { wp in
            median { GEMM.sgemm(pool: pool, m: g.outChannels, n: n, k: g.patchSize, a: wp.baseAddress!, lda: g.patchSize,
                                b: b, ldb: n, c: y, ldc: n) }
        }
        let flops = 2.0 * Double(g.macs)
        print(name.padding(toLength: 24, withPad: " ", startingAt: 0)
              + directs.map { String(format: "%8.2f  %6.1f  ", $0 * 1e3, flops / $0 / 1e9) }.joined()
              + String(format: "%8.2f  %6.1f   %5.2f×", blas * 1e3, flops / blas / 1e9, blas / direct))
        x.deallocate(); y.deallocate(); b.deallocate()
    }
}
