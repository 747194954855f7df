import CKernels

/// Scaled-dot-product attention, fused per head: out = softmax(scale · Q·Kᵀ + mask) · V, with
/// the softmax applied to blocks of four score rows while they are in L1. The [queries × keys]
/// score matrix is never written out, and Q, K, V and the output stay in the layout the Linear
/// layers around attention use: [batch·tokens × heads·depth], or its transpose when the sparse
/// Linear layers keep them feature-major (`ActivationLayout`). The reshapes and transposes into
/// heads of an exported BERT graph become strides.
///
/// The mask is additive, broadcast like an ONNX `Add` operand: element (b, h, i, j) is read at
/// `b · batchStride + h · headStride + i · rowStride + j` (strides 0 where the mask broadcasts).
/// Heads (and, with fewer heads than threads, blocks of query rows) run in parallel; each thread
/// transposes its head's keys into scratch. AVX-512F in C where the CPU has it
/// (`spdy_attention_head_avx512`), the `SIMD8` twin below elsewhere.
public final class FusedAttention: @unchecked Sendable {
    /// Where the mask's elements are, in floats; the column (key) stride is 1.
    public struct MaskLayout: Sendable, Equatable {
        public var batchStride: Int, headStride: Int, rowStride: Int
        public init(batchStride: Int, headStride: Int, rowStride: Int) {
            self.batchStride = batchStride; self.headStride = headStride; self.rowStride = rowStride
        }

        /// The strides of a mask of shape `shape` broadcast (NumPy rules) to `scores`
        /// ([B, H, Sq, Sk]); nil when it does not broadcast or its last dimension is not Sk.
        public init?(broadcasting shape: [Int], to scores: [Int]) {
            guard scores.count == 4, shape.count <= 4, shape.last == scores[3] else { return nil }
            let full = [Int](repeating: 1, count: 4 - shape.count) + shape
            var strides = [Int](repeating: 0, count: 4), stride = 1
            for d in (0..<4).reversed() {
                guard full[d] == scores[d] || full[d] == 1 else { return nil }
                strides[d] = full[d] == 1 ? 0 : stride
                stride *= full[d]
            }
            self.init(batchStride: strides[0], headStride: strides[1], rowStride: strides[2])
        }
    }

    public let batch: Int, heads: Int, queryLength: Int, keyLength: Int, depth: Int
    public let scale: Float
    public let maskLayout: MaskLayout?
    /// Layouts of Q, K, V and the output.
    public let layouts: (q: ActivationLayout, k: ActivationLayout, v: ActivationLayout, out: ActivationLayout)
    /// The kernel's instruction set, `KernelInstructionSet.active` when the step was built.
    public let kernelInstructionSet: KernelInstructionSet
    let scratch: ThreadScratch

    public init(batch: Int, heads: Int, queryLength: Int, keyLength: Int, depth: Int, scale: Float,
                maskLayout: MaskLayout?, threads: Int,
                layouts: (q: ActivationLayout, k: ActivationLayout, v: ActivationLayout, out: ActivationLayout)
                    = (.tokenMajor, .tokenMajor, .tokenMajor, .tokenMajor)) {
        self.batch = batch; self.heads = heads
        self.queryLength = queryLength; self.keyLength = keyLength; self.depth = depth
        self.scale = scale
        self.maskLayout = maskLayout
        self.layouts = layouts
        kernelInstructionSet = .active
        scratch = ThreadScratch(floatsPerThread: Int(spdy_attention_scratch(Int64(queryLength), Int64(keyLength), Int64(depth))),
                                threads: threads)
    }

    /// One head's view of a [batch·tokens × heads·depth] operand in `layout`: its first element
    /// for batch item b, head h and token `token` of that item, and its (token, feature) strides.
    /// A token-blocked operand's sequences must each lie within one block (the block width a
    /// multiple of the sequence length), so that one head of one item has fixed strides.
    struct HeadView {
        let layout: ActivationLayout
        let tokens: Int, features: Int, depth: Int
        let tokenStride: Int, featureStride: Int

        init(layout: ActivationLayout, tokens: Int, features: Int, depth: Int) {
            if let w = layout.tokenBlockWidth {
                precondition(w % tokens == 0, "a sequence of \(tokens) tokens straddles blocks of \(w)")
            }
            self.layout = layout
            self.tokens = tokens; self.features = features; self.depth = depth
            (tokenStride, featureStride) = layout.strides(features: features)
        }

        func offset(batch b: Int, head h: Int, token: Int) -> Int {
            layout.offset(token: b * tokens + token, feature: h * depth, features: features)
        }
    }

    /// Runs every head: q and out are [batch·queryLength × heads·depth], k and v
    /// [batch·keyLength × heads·depth] (or their transposes, as `layouts` says); `mask` is nil
    /// exactly when `maskLayout` is. `instructionSet` defaults to the one the step was built with.
    public func run(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                    out: UnsafeMutablePointer<Float>, pool: ThreadPool,
                    instructionSet: KernelInstructionSet? = nil) {
        precondition((mask == nil) == (maskLayout == nil), "mask and mask layout go together")
        let items = batch * heads
        guard items > 0, queryLength > 0 else { return }
        // Fewer heads than threads: split query rows too, in blocks of at least four rows.
        let blocks = items >= 2 * pool.threads ? 1 : min(max(1, queryLength / 4), (2 * pool.threads + items - 1) / items)
        let width = heads * depth, avx512 = (instructionSet ?? kernelInstructionSet) == .avx512
        let qv = HeadView(layout: layouts.q, tokens: queryLength, features: width, depth: depth)
        let kv = HeadView(layout: layouts.k, tokens: keyLength, features: width, depth: depth)
        let vv = HeadView(layout: layouts.v, tokens: keyLength, features: width, depth: depth)
        let ov = HeadView(layout: layouts.out, tokens: queryLength, features: width, depth: depth)
        pool.parallelChunks(items * blocks) { thread, range in
            let scratch = self.scratch[thread]
            for item in range {
                let head = item / blocks, block = item % blocks
                let b = head / self.heads, h = head % self.heads
                let rows = (self.queryLength * block / blocks)..<(self.queryLength * (block + 1) / blocks)
                let qh = q + qv.offset(batch: b, head: h, token: rows.lowerBound)
                let kh = k + kv.offset(batch: b, head: h, token: 0), vh = v + vv.offset(batch: b, head: h, token: 0)
                let oh = out + ov.offset(batch: b, head: h, token: rows.lowerBound)
                var mh: UnsafePointer<Float>? = nil, maskLd = 0
                if let mask, let layout = self.maskLayout {
                    mh = mask + b * layout.batchStride + h * layout.headStride + rows.lowerBound * layout.rowStride
                    maskLd = layout.rowStride
                }
                if avx512 {
                    spdy_attention_head_avx512(qh, Int64(qv.tokenStride), Int64(qv.featureStride),
                                               kh, Int64(kv.tokenStride), Int64(kv.featureStride),
                                               vh, Int64(vv.tokenStride), Int64(vv.featureStride),
                                               Int64(rows.count), Int64(self.keyLength), Int64(self.depth), self.scale,
                                               mh, Int64(maskLd), oh, Int64(ov.tokenStride), Int64(ov.featureStride), scratch)
                } else {
                    Self.head(q: qh, qv, k: kh, kv, v: vh, vv, queries: rows.count, keys: self.keyLength, depth: self.depth,
                              scale: self.scale, mask: mh, maskLd: maskLd, out: oh, ov, scratch: scratch)
                }
            }
        }
    }

    // MARK: The SIMD8 kernel (same blocking as the C one, eight lanes)

    typealias Vector = SIMD8<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }

    /// One head; operands as their views say, mask rows `maskLd` apart. Same scratch layout as
    /// the C kernel: keys [depth × skp], four score rows, values and output token-major.
    static func head(q: UnsafePointer<Float>, _ qv: HeadView, k: UnsafePointer<Float>, _ kv: HeadView,
                     v: UnsafePointer<Float>, _ vv: HeadView, queries: Int, keys: Int, depth: Int, scale: Float,
                     mask: UnsafePointer<Float>?, maskLd: Int, out: UnsafeMutablePointer<Float>, _ ov: HeadView,
                     scratch: UnsafeMutablePointer<Float>) {
        let skp = (keys + 15) / 16 * 16
        let kt = scratch, s = kt + depth * skp, vt = s + 4 * skp, ot = vt + keys * depth
        if kv.featureStride == 1 {
            Transpose.block(k, ld: kv.tokenStride, rows: keys, columns: depth, into: kt, ld: skp)
        } else {
            for d in 0..<depth { (kt + d * skp).update(from: k + d * kv.featureStride, count: keys) }
        }
        for d in 0..<depth { for j in keys..<skp { kt[d * skp + j] = 0 } }
        var values = v, ldv = vv.tokenStride
        if vv.featureStride != 1 {
            Transpose.block(v, ld: vv.featureStride, rows: depth, columns: keys, into: vt, ld: depth)
            (values, ldv) = (UnsafePointer(vt), depth)
        }
        let o = ov.featureStride == 1 ? out : ot, ldo = ov.featureStride == 1 ? ov.tokenStride : depth
        let (qts, qfs) = (qv.tokenStride, qv.featureStride)
        var i = 0
        while i < queries {
            let rows = queries - i >= 4 ? 4 : 1
            let qi = q + i * qts
            if rows == 4 {
                scores4(q: qi, qts: qts, qfs: qfs, kt: kt, skp: skp, depth: depth, s: s)
            } else {
                scores1(q: qi, qfs: qfs, kt: kt, skp: skp, depth: depth, s: s)
            }
            var inv = (Float(0), Float(0), Float(0), Float(0))
            inv.0 = softmaxRow(s, keys: keys, scale: scale, mask: mask.map { $0 + i * maskLd })
            if rows == 4 {
                inv.1 = softmaxRow(s + skp, keys: keys, scale: scale, mask: mask.map { $0 + (i + 1) * maskLd })
                inv.2 = softmaxRow(s + 2 * skp, keys: keys, scale: scale, mask: mask.map { $0 + (i + 2) * maskLd })
                inv.3 = softmaxRow(s + 3 * skp, keys: keys, scale: scale, mask: mask.map { $0 + (i + 3) * maskLd })
                context4(p: s, skp: skp, v: values, ldv: ldv, keys: keys, depth: depth, inv: inv, out: o + i * ldo, ldo: ldo)
            } else {
                context1(p: s, v: values, ldv: ldv, keys: keys, depth: depth, inv: inv.0, out: o + i * ldo)
            }
            i += rows
        }
        if ov.featureStride != 1 { Transpose.block(ot, ld: depth, rows: queries, columns: depth, into: out, ld: ov.featureStride) }
    }

    /// Scores of four query rows, 16 keys per pass (eight accumulators).
    @inline(__always)
    static func scores4(q: UnsafePointer<Float>, qts: Int, qfs: Int, kt: UnsafePointer<Float>, skp: Int, depth: Int,
                        s: UnsafeMutablePointer<Float>) {
        var j = 0
        while j < skp {
            var a0 = Vector(), b0 = Vector(), a1 = Vector(), b1 = Vector()
            var a2 = Vector(), b2 = Vector(), a3 = Vector(), b3 = Vector()
            var kp = kt + j
            for d in 0..<depth {
                let k0 = load(kp), k1 = load(kp + 8)
                let qd = q + d * qfs
                let q0 = Vector(repeating: qd[0]), q1 = Vector(repeating: qd[qts])
                let q2 = Vector(repeating: qd[2 * qts]), q3 = Vector(repeating: qd[3 * qts])
                a0.addProduct(q0, k0); b0.addProduct(q0, k1)
                a1.addProduct(q1, k0); b1.addProduct(q1, k1)
                a2.addProduct(q2, k0); b2.addProduct(q2, k1)
                a3.addProduct(q3, k0); b3.addProduct(q3, k1)
                kp += skp
            }
            store(a0, s + j); store(b0, s + j + 8)
            store(a1, s + skp + j); store(b1, s + skp + j + 8)
            store(a2, s + 2 * skp + j); store(b2, s + 2 * skp + j + 8)
            store(a3, s + 3 * skp + j); store(b3, s + 3 * skp + j + 8)
            j += 16
        }
    }

    /// Scores of one query row.
    static func scores1(q: UnsafePointer<Float>, qfs: Int, kt: UnsafePointer<Float>, skp: Int, depth: Int, s: UnsafeMutablePointer<Float>) {
        var j = 0
        while j < skp {
            var a = Vector(), b = Vector()
            for d in 0..<depth {
                let x = Vector(repeating: q[d * qfs])
                a.addProduct(x, load(kt + d * skp + j)); b.addProduct(x, load(kt + d * skp + j + 8))
            }
            store(a, s + j); store(b, s + j + 8)
            j += 16
        }
    }

    /// In place: s[j] ← exp(scale · s[j] + mask[j] − max) for j < keys; returns 1 / Σ.
    @inline(__always)
    static func softmaxRow(_ s: UnsafeMutablePointer<Float>, keys: Int, scale: Float, mask: UnsafePointer<Float>?) -> Float {
        if let mask {
            for j in 0..<keys { s[j] = s[j] * scale + mask[j] }
        } else {
            for j in 0..<keys { s[j] *= scale }
        }
        let m = VectorMath.maximum(s, count: keys)
        VectorMath.exp(s, s, count: keys, minus: m)
        return 1 / VectorMath.sum(s, count: keys)
    }

    /// out[r, :] = inv.r · Σ_j p[r, j] · v[j, :] for four rows: 16 value columns per pass, then 8,
    /// then scalar.
    @inline(__always)
    static func context4(p: UnsafePointer<Float>, skp: Int, v: UnsafePointer<Float>, ldv: Int, keys: Int, depth: Int,
                         inv: (Float, Float, Float, Float), out: UnsafeMutablePointer<Float>, ldo: Int) {
        let (p0, p1, p2, p3) = (p, p + skp, p + 2 * skp, p + 3 * skp)
        var c = 0
        while c + 16 <= depth {
            var a0 = Vector(), b0 = Vector(), a1 = Vector(), b1 = Vector()
            var a2 = Vector(), b2 = Vector(), a3 = Vector(), b3 = Vector()
            var vp = v + c
            for j in 0..<keys {
                let v0 = load(vp), v1 = load(vp + 8)
                let x0 = Vector(repeating: p0[j]), x1 = Vector(repeating: p1[j])
                let x2 = Vector(repeating: p2[j]), x3 = Vector(repeating: p3[j])
                a0.addProduct(x0, v0); b0.addProduct(x0, v1)
                a1.addProduct(x1, v0); b1.addProduct(x1, v1)
                a2.addProduct(x2, v0); b2.addProduct(x2, v1)
                a3.addProduct(x3, v0); b3.addProduct(x3, v1)
                vp += ldv
            }
            store(a0 * inv.0, out + c); store(b0 * inv.0, out + c + 8)
            store(a1 * inv.1, out + ldo + c); store(b1 * inv.1, out + ldo + c + 8)
            store(a2 * inv.2, out + 2 * ldo + c); store(b2 * inv.2, out + 2 * ldo + c + 8)
            store(a3 * inv.3, out + 3 * ldo + c); store(b3 * inv.3, out + 3 * ldo + c + 8)
            c += 16
        }
        if c < depth {
            for (r, scale) in [inv.0, inv.1, inv.2, inv.3].enumerated() {
                context1(p: p + r * skp, v: v + c, ldv: ldv, keys: keys, depth: depth - c, inv: scale, out: out + r * ldo + c)
            }
        }
    }

    /// out[:] = inv · Σ_j p[j] · v[j, :] for one row.
    static func context1(p: UnsafePointer<Float>, v: UnsafePointer<Float>, ldv: Int, keys: Int, depth: Int, inv: Float,
                         out: UnsafeMutablePointer<Float>) {
        var c = 0
        while c + 8 <= depth {
            var a = Vector()
            for j in 0..<keys { a.addProduct(Vector(repeating: p[j]), load(v + j * ldv + c)) }
            store(a * inv, out + c)
            c += 8
        }
        while c < depth {
            var a: Float = 0
            for j in 0..<keys { a += p[j] * v[j * ldv + c] }
            out[c] = a * inv
            c += 1
        }
    }
}
