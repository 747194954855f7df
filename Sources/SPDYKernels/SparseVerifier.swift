import Foundation

/// Strict reference twins of the sparse kernels (the dense definitions, scalar loops, Double
/// sums, reading the *dense* weights, so compression bugs cannot hide) and a verifier that sweeps
/// shapes and sparsities comparing each kernel with its twin.
public enum SparseReference {
    /// A finished sum: exact GELU of it, or it clamped to [lo, hi].
    static func activate(_ v: Double, lo: Float, hi: Float, gelu: Bool) -> Float {
        gelu ? Float(0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))) : min(max(Float(v), lo), hi)
    }

    /// out[n, o, y, x] = clamp(bias[o] + Σ w[o, c, ky, kx] · in[n, g·Cg + c, y·s + ky·d − p, x·s + kx·d − p]),
    /// or its exact GELU.
    public static func convolution(_ g: ConvGeometry, input: [Float], weight: [Float], bias: [Float]?,
                                   lo: Float, hi: Float, gelu: Bool = false) -> [Float] {
        let oh = g.outHeight, ow = g.outWidth, cg = g.groupInChannels, mg = g.groupOutChannels
        var out = [Float](repeating: 0, count: g.batch * g.outChannels * oh * ow)
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                let group = o / mg
                for y in 0..<oh {
                    for x in 0..<ow {
                        var s = 0.0
                        for c in 0..<cg {
                            for ky in 0..<g.kernelHeight {
                                for kx in 0..<g.kernelWidth {
                                    let iy = y * g.strideH + ky * g.dilationH - g.padTop
                                    let ix = x * g.strideW + kx * g.dilationW - g.padLeft
                                    guard iy >= 0, iy < g.inHeight, ix >= 0, ix < g.inWidth else { continue }
                                    let wv = weight[((o * cg + c) * g.kernelHeight + ky) * g.kernelWidth + kx]
                                    let iv = input[((n * g.inChannels + group * cg + c) * g.inHeight + iy) * g.inWidth + ix]
                                    s += Double(wv) * Double(iv)
                                }
                            }
                        }
                        let v = Double(Float(s) + (bias?[o] ?? 0))
                        out[((n * g.outChannels + o) * oh + y) * ow + x] = activate(v, lo: lo, hi: hi, gelu: gelu)
                    }
                }
            }
        }
        return out
    }

    /// y[t, o] = clamp(bias[o] + Σ_k x[t, k] · w[o, k]) (w is [out × in]), or its exact GELU.
    public static func linear(tokens: Int, inFeatures: Int, outFeatures: Int, x: [Float], weight: [Float],
                              bias: [Float]?, lo: Float, hi: Float, gelu: Bool = false) -> [Float] {
        var y = [Float](repeating: 0, count: tokens * outFeatures)
        for t in 0..<tokens {
            for o in 0..<outFeatures {
                var s = 0.0
                for k in 0..<inFeatures { s += Double(x[t * inFeatures + k]) * Double(weight[o * inFeatures + k]) }
                y[t * outFeatures + o] = activate(s + Double(bias?[o] ?? 0), lo: lo, hi: hi, gelu: gelu)
            }
        }
        return y
    }
}

/// One verified case: the kernel's largest absolute difference from its twin, and the scale.
public struct SparseVerificationCase: Sendable {
    public var kernel: String
    public var shape: String
    public var sparsity: Double
    public var threads: Int
    public var maxAbsError: Float
    public var scale: Float
    /// Within tolerance: 1e-5 · √depth · max(1, scale).
    public var passed: Bool
}

/// Sweeps the sparse kernels over shapes (odd sizes, empty rows and columns, 1×1 and 3×3
/// convolutions with stride, padding, dilation and groups) and sparsities, against the twins.
public enum SparseVerifier {
    public static let sparsities: [Double] = [0, 0.5, 0.9, 0.99, 1]

    /// Linear shapes: (tokens, in, out).
    public static let linearShapes: [(Int, Int, Int)] = [
        (1, 1, 1), (5, 13, 7), (9, 33, 17), (64, 64, 64), (130, 100, 33), (37, 768, 96), (200, 96, 40),
    ]

    /// Convolution shapes.
    public static let convolutionShapes: [ConvGeometry] = [
        ConvGeometry(batch: 2, inChannels: 5, inHeight: 7, inWidth: 9, outChannels: 6, kernelHeight: 1, kernelWidth: 1),
        ConvGeometry(batch: 1, inChannels: 8, inHeight: 9, inWidth: 9, outChannels: 4, kernelHeight: 1, kernelWidth: 1,
                     strideH: 2, strideW: 2),
        ConvGeometry(batch: 2, inChannels: 3, inHeight: 6, inWidth: 11, outChannels: 7, kernelHeight: 3, kernelWidth: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(batch: 1, inChannels: 4, inHeight: 5, inWidth: 5, outChannels: 3, kernelHeight: 3, kernelWidth: 3),
        ConvGeometry(batch: 2, inChannels: 6, inHeight: 9, inWidth: 8, outChannels: 5, kernelHeight: 3, kernelWidth: 3,
                     strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(batch: 1, inChannels: 3, inHeight: 9, inWidth: 9, outChannels: 4, kernelHeight: 3, kernelWidth: 3,
                     padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, dilationH: 2, dilationW: 2),
        ConvGeometry(batch: 1, inChannels: 2, inHeight: 8, inWidth: 7, outChannels: 3, kernelHeight: 5, kernelWidth: 3,
                     padTop: 2, padLeft: 1, padBottom: 1, padRight: 0),
        ConvGeometry(batch: 1, inChannels: 3, inHeight: 16, inWidth: 16, outChannels: 8, kernelHeight: 7, kernelWidth: 7,
                     strideH: 2, strideW: 2, padTop: 3, padLeft: 3, padBottom: 3, padRight: 3),
        ConvGeometry(batch: 2, inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 6, kernelHeight: 3, kernelWidth: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 2),
        ConvGeometry(batch: 3, inChannels: 3, inHeight: 1, inWidth: 1, outChannels: 2, kernelHeight: 3, kernelWidth: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(batch: 2, inChannels: 64, inHeight: 14, inWidth: 14, outChannels: 64, kernelHeight: 3, kernelWidth: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(batch: 1, inChannels: 40, inHeight: 3, inWidth: 70, outChannels: 9, kernelHeight: 1, kernelWidth: 1),
        // Padded planes over `SparseConvolution.inPlacePaddedPlane`: the direct method packs tiles.
        ConvGeometry(batch: 2, inChannels: 5, inHeight: 34, inWidth: 33, outChannels: 7, kernelHeight: 3, kernelWidth: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(batch: 1, inChannels: 4, inHeight: 40, inWidth: 37, outChannels: 6, kernelHeight: 3, kernelWidth: 3,
                     strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        // Strided: phase splits with odd strides and pads, even dilation (one phase), groups,
        // different strides per axis.
        ConvGeometry(batch: 2, inChannels: 5, inHeight: 11, inWidth: 13, outChannels: 6, kernelHeight: 5, kernelWidth: 5,
                     strideH: 3, strideW: 3, padTop: 2, padLeft: 1, padBottom: 0, padRight: 2),
        ConvGeometry(batch: 1, inChannels: 4, inHeight: 12, inWidth: 12, outChannels: 5, kernelHeight: 3, kernelWidth: 3,
                     strideH: 2, strideW: 2, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, dilationH: 2, dilationW: 2),
        ConvGeometry(batch: 2, inChannels: 6, inHeight: 10, inWidth: 9, outChannels: 4, kernelHeight: 3, kernelWidth: 3,
                     strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 2),
        ConvGeometry(batch: 1, inChannels: 3, inHeight: 9, inWidth: 10, outChannels: 4, kernelHeight: 3, kernelWidth: 1,
                     strideH: 2, strideW: 1, padTop: 1, padLeft: 0, padBottom: 1, padRight: 0),
        // A plane large enough for the pointwise kernel to read its input in place.
        ConvGeometry(batch: 2, inChannels: 7, inHeight: 45, inWidth: 51, outChannels: 5, kernelHeight: 1, kernelWidth: 1),
    ]

    /// The activation layouts the Linear cases cycle through (input, output): token-major,
    /// feature-major (row stride padded by 16, as the engine pads it) and token-blocked with
    /// blocks narrower than, as wide as, and wider than the kernel's tile.
    static func linearLayouts(tokens: Int) -> [(ActivationLayout, ActivationLayout)] {
        let fm = ActivationLayout.featureMajor(rowStride: ActivationLayout.paddedRowStride(tokens: tokens))
        return [(.tokenMajor, .tokenMajor), (.tokenBlocked(width: 32), .tokenBlocked(width: 32)),
                (fm, .tokenBlocked(width: 64)), (.tokenBlocked(width: 128), .tokenMajor),
                (.tokenMajor, .tokenBlocked(width: 16)), (.tokenBlocked(width: 64), fm), (fm, fm)]
    }

    static func describe(_ layout: ActivationLayout) -> String {
        switch layout {
        case .tokenMajor: return "tm"
        case .featureMajor: return "fm"
        case .tokenBlocked(let w): return "blocked\(w)"
        }
    }

    /// Runs every case at `threads`; the returned cases say which passed.
    public static func run(threads: Int) -> [SparseVerificationCase] {
        let pool = ThreadPool(threads: threads)
        var rng = VerifierRandom(seed: 0x5eed)
        var cases: [SparseVerificationCase] = []
        var linearCase = 0
        for (index, (tokens, k, m)) in linearShapes.enumerated() {
            for s in sparsities {
                let (inputLayout, outputLayout) = linearLayouts(tokens: tokens)[linearCase % 7]
                linearCase += 1
                let fused = index % 2 == 0, gelu = index % 4 == 1
                var w = rng.weights(rows: m, columns: k, sparsity: s)
                let x = rng.values(tokens * k)
                let bias = fused || gelu ? rng.values(m) : nil
                let (lo, hi): (Float, Float) = fused ? (0, .infinity) : (-.infinity, .infinity)
                let expected = SparseReference.linear(tokens: tokens, inFeatures: k, outFeatures: m, x: x, weight: w,
                                                      bias: bias, lo: lo, hi: hi, gelu: gelu)
                // Alternate the stored orientation: [out × in] and [in × out] (ONNX MatMul).
                let transposed = index % 3 == 1
                if transposed { w = transpose(w, rows: m, columns: k) }
                let layer = w.withUnsafeBufferPointer {
                    SparseLinear(weight: $0.baseAddress!, inFeatures: k, outFeatures: m, transposed: transposed, threads: threads,
                                 input: inputLayout, output: outputLayout)
                }
                // Padding is NaN: it may reach only the output's padding.
                let stored = inputLayout.arrange(x, tokens: tokens, features: k)
                var y = [Float](repeating: .nan, count: outputLayout.storage(tokens: tokens, features: m))
                stored.withUnsafeBufferPointer { xp in
                    bias.withUnsafeBufferPointerOrNil { bp in
                        y.withUnsafeMutableBufferPointer { yp in
                            layer.run(n: tokens, x: xp.baseAddress!, y: yp.baseAddress!,
                                      epilogue: KernelEpilogue(bias: bp, lo: lo, hi: hi, gelu: gelu), pool: pool)
                        }
                    }
                }
                let layouts = inputLayout == .tokenMajor && outputLayout == .tokenMajor ? ""
                    : " \(Self.describe(inputLayout))->\(Self.describe(outputLayout))"
                cases.append(compare("SparseLinear", "\(tokens)x\(k)->\(m)\(gelu ? "+GELU" : "")\(layouts)", s, threads,
                                     outputLayout.tokenMajorMatrix(y, tokens: tokens, features: m), expected, depth: k))
            }
        }
        for (index, g) in convolutionShapes.enumerated() {
            for s in sparsities {
                let fused = index % 2 == 1, gelu = index % 4 == 2
                let k = g.patchSize
                let w = rng.weights(rows: g.outChannels, columns: k, sparsity: s)
                let x = rng.values(g.batch * g.inChannels * g.inHeight * g.inWidth)
                let bias = fused || gelu ? rng.values(g.outChannels) : nil
                let (lo, hi): (Float, Float) = fused ? (0, 6) : (-.infinity, .infinity)
                let expected = SparseReference.convolution(g, input: x, weight: w, bias: bias, lo: lo, hi: hi, gelu: gelu)
                let conv = w.withUnsafeBufferPointer { SparseConvolution(geometry: g, weight: $0.baseAddress!, threads: threads) }
                var y = [Float](repeating: .nan, count: expected.count)
                x.withUnsafeBufferPointer { xp in
                    bias.withUnsafeBufferPointerOrNil { bp in
                        y.withUnsafeMutableBufferPointer { yp in
                            conv.run(input: xp.baseAddress!, output: yp.baseAddress!,
                                     epilogue: KernelEpilogue(bias: bp, lo: lo, hi: hi, gelu: gelu), pool: pool)
                        }
                    }
                }
                let shape = "\(g.batch)x\(g.inChannels)x\(g.inHeight)x\(g.inWidth) \(g.kernelHeight)x\(g.kernelWidth)/\(g.strideH)"
                    + " p\(g.padTop)\(g.padLeft)\(g.padBottom)\(g.padRight) d\(g.dilationH) g\(g.groups) ->\(g.outChannels)"
                cases.append(compare("SparseConvolution(\(conv.methodDescription))", shape + (gelu ? " +GELU" : ""), s, threads, y, expected, depth: k))
            }
        }
        return cases
    }

    static func compare(_ kernel: String, _ shape: String, _ sparsity: Double, _ threads: Int,
                        _ actual: [Float], _ expected: [Float], depth: Int) -> SparseVerificationCase {
        var worst: Float = 0, scale: Float = 0
        for (a, e) in zip(actual, expected) {
            let d = a.isNaN ? Float.infinity : abs(a - e)
            worst = max(worst, d)
            scale = max(scale, abs(e))
        }
        let tolerance = 1e-5 * Float(depth).squareRoot() * max(1, scale)
        return SparseVerificationCase(kernel: kernel, shape: shape, sparsity: sparsity, threads: threads,
                                      maxAbsError: worst, scale: scale, passed: worst <= tolerance)
    }

    static func transpose(_ a: [Float], rows: Int, columns: Int) -> [Float] {
        var t = [Float](repeating: 0, count: a.count)
        for r in 0..<rows { for c in 0..<columns { t[c * rows + r] = a[r * columns + c] } }
        return t
    }
}

/// A small deterministic generator (SplitMix64) for verifier data.
struct VerifierRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float(unit() * 2 - 1) } }

    /// A [rows × columns] weight with about `sparsity` of it zero, its first row and second
    /// column always empty (the kernels must handle empty rows and columns).
    mutating func weights(rows: Int, columns: Int, sparsity: Double) -> [Float] {
        var w = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns where unit() >= sparsity {
                w[r * columns + c] = Float(unit() * 2 - 1)
            }
        }
        if rows > 1 { for c in 0..<columns { w[c] = 0 } }
        if columns > 2 { for r in 0..<rows { w[r * columns + 1] = 0 } }
        return w
    }
}

extension Optional where Wrapped == [Float] {
    /// The buffer's base address, or nil for a nil array.
    func withUnsafeBufferPointerOrNil<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case .some(let a): return a.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}
