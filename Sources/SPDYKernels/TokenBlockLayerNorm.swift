/// LayerNorm over the features of each token, y = (h − mean) / √(var + ε) · scale + bias with
/// h = x (+ residual), for activations that are not token-major: the residual stream of a
/// transformer whose Linear layers run sparse stays token-blocked (`ActivationLayout.tokenBlocked`)
/// from one layer to the next, so nobody transposes it.
///
/// Tokens go in strips of 32, each strip a feature-major [features × 32] view normalised column
/// by column: two vectors of 16 tokens accumulate the sums over features (mean, then squared
/// deviations), a third pass writes the result. A token-major operand's strip is transposed into
/// per-thread scratch first (and a token-major output transposed back), so every combination of
/// token-major and token-blocked operands runs the same kernel. Strips run in parallel.
public final class TokenBlockLayerNorm: @unchecked Sendable {
    /// Tokens per strip (two 16-float vectors).
    public static let stripWidth = 32

    public let tokens: Int, features: Int
    public let epsilon: Float
    /// Layouts of the input, the residual added to it (nil: none) and the output.
    public let input: ActivationLayout, residual: ActivationLayout?, output: ActivationLayout
    let scale: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>
    let scratch: ThreadScratch

    /// `scale` and `bias` have `features` entries. Feature-major (row-stride) layouts are not
    /// supported; token-blocked ones must have a block width that is a multiple of the strip.
    public init(tokens: Int, features: Int, epsilon: Float, scale: [Float], bias: [Float], input: ActivationLayout,
                residual: ActivationLayout?, output: ActivationLayout, threads: Int) {
        precondition(scale.count == features && bias.count == features, "one scale and bias per feature")
        for layout in [input, residual, output].compactMap({ $0 }) {
            precondition(!layout.isFeatureMajor, "TokenBlockLayerNorm reads token-major or token-blocked operands")
            if let w = layout.tokenBlockWidth { precondition(w % Self.stripWidth == 0, "block width \(w) is not a multiple of 32") }
        }
        self.tokens = tokens; self.features = features; self.epsilon = epsilon
        self.input = input; self.residual = residual; self.output = output
        self.scale = .allocate(capacity: max(1, features))
        self.scale.initialize(from: scale, count: features)
        self.bias = .allocate(capacity: max(1, features))
        self.bias.initialize(from: bias, count: features)
        let stagedOperands = [input, residual, output].filter { $0 == .tokenMajor }.count
        scratch = ThreadScratch(floatsPerThread: stagedOperands * features * Self.stripWidth, threads: threads)
    }

    deinit {
        scale.deallocate()
        bias.deallocate()
    }

    /// Normalises every token: x and residual (nil exactly when `residual` is) to y.
    public func run(x: UnsafePointer<Float>, residual r: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        precondition((r == nil) == (residual == nil), "residual operand and layout go together")
        let sw = Self.stripWidth, f = features, n = tokens
        let strips = (n + sw - 1) / sw
        guard strips > 0 else { return }
        pool.parallelChunks(strips) { thread, range in
            var staging = self.scratch[thread]
            /// A strip's feature-major view of a read operand: in place, or transposed into scratch.
            func view(_ p: UnsafePointer<Float>, _ layout: ActivationLayout, t0: Int, valid: Int) -> (UnsafePointer<Float>, Int) {
                if case .tokenBlocked(let w) = layout { return (p + layout.offset(token: t0, feature: 0, features: f), w) }
                let strip = staging
                staging += f * sw
                Transpose.block(p + t0 * f, ld: f, rows: valid, columns: f, into: strip, ld: sw)
                return (UnsafePointer(strip), sw)
            }
            let stagingStart = staging
            for s in range {
                staging = stagingStart
                let t0 = s * sw, valid = min(sw, n - t0)
                let (xs, ldx) = view(x, self.input, t0: t0, valid: valid)
                let rs = r.map { view($0, self.residual!, t0: t0, valid: valid) }
                let (ys, ldy): (UnsafeMutablePointer<Float>, Int)
                if case .tokenBlocked(let w) = self.output {
                    (ys, ldy) = (y + self.output.offset(token: t0, feature: 0, features: f), w)
                } else {
                    (ys, ldy) = (staging, sw)
                }
                Self.strip(x: xs, ldx: ldx, residual: rs?.0, ldr: rs?.1 ?? 0, y: ys, ldy: ldy, features: f,
                           epsilon: self.epsilon, scale: self.scale, bias: self.bias)
                if self.output == .tokenMajor {
                    Transpose.block(ys, ld: sw, rows: f, columns: valid, into: y + t0 * f, ld: f)
                }
            }
        }
    }

    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// One strip of 32 tokens: feature rows `ldx`, `ldr`, `ldy` floats apart (y may not alias x).
    @inline(__always)
    static func strip(x: UnsafePointer<Float>, ldx: Int, residual r: UnsafePointer<Float>?, ldr: Int,
                      y: UnsafeMutablePointer<Float>, ldy: Int, features: Int, epsilon: Float,
                      scale: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
        var s0 = V(), s1 = V()
        // h = x + residual, kept in y until it is normalised there.
        let h: UnsafePointer<Float>, ldh: Int
        if let r {
            for f in 0..<features {
                let a = load(x + f * ldx) + load(r + f * ldr), b = load(x + f * ldx + 16) + load(r + f * ldr + 16)
                store(a, y + f * ldy); store(b, y + f * ldy + 16)
                s0 += a; s1 += b
            }
            (h, ldh) = (UnsafePointer(y), ldy)
        } else {
            for f in 0..<features {
                s0 += load(x + f * ldx); s1 += load(x + f * ldx + 16)
            }
            (h, ldh) = (x, ldx)
        }
        let inverseCount = V(repeating: 1 / Float(features))
        let m0 = s0 * inverseCount, m1 = s1 * inverseCount
        var q0 = V(), q1 = V()
        for f in 0..<features {
            let d0 = load(h + f * ldh) - m0, d1 = load(h + f * ldh + 16) - m1
            q0.addProduct(d0, d0); q1.addProduct(d1, d1)
        }
        let e = V(repeating: epsilon)
        let i0 = 1 / (q0 * inverseCount + e).squareRoot(), i1 = 1 / (q1 * inverseCount + e).squareRoot()
        for f in 0..<features {
            let g = V(repeating: scale[f]), b = V(repeating: bias[f])
            store((load(h + f * ldh) - m0) * i0 * g + b, y + f * ldy)
            store((load(h + f * ldh + 16) - m1) * i1 * g + b, y + f * ldy + 16)
        }
    }
}
