import CKernels
import Foundation

/// The sparse × dense micro-kernels: for each row of a `SparseMatrix`, a tile of output columns
/// is accumulated in SIMD registers over the row's nonzeros (broadcast the value, load the X row
/// slice at the entry's offset, fused multiply-add), then the epilogue is applied and it is stored.
///
/// Register tiles are 32 columns (four 8-lane vectors, two nonzeros in flight: eight independent
/// FMA chains, enough to cover FMA latency on AVX2), then 16 and 8; a remainder of fewer than 8
/// columns is covered by one more 8-column vector ending at the last column (recomputing a few
/// columns already stored, which is harmless because stores do not read Y), or by a scalar loop
/// when the tile is narrower than 8. X is only read at `x + offset + j` for `j < width`.
/// `SIMD8<Float>` lowers to AVX2/FMA on x86_64 (with the package's target flags) and to NEON pairs
/// on arm64: one source for both.
extension SparseMatrix {
    public typealias Vector = SIMD8<Float>

    /// The instruction set of sparse kernels built now: AVX-512F where the CPU has it (16 columns
    /// per vector, masked tails), AVX2/FMA otherwise. `SPDY_SPARSE_ISA=avx2` forces AVX2;
    /// benchmarks switch it to compare both in one run (`KernelInstructionSet.active`). A matrix
    /// keeps the one it was built with (`kernelInstructionSet`).
    public static var instructionSet: KernelInstructionSet {
        get { KernelInstructionSet.active }
        set { KernelInstructionSet.active = newValue }
    }

    /// Y[r, 0..<width] = epilogue(Σ A[r, k] · X[offset(k) + j]) for r in `rows`; Y row r starts at
    /// `y + (r - rows.lowerBound) · ldy` (so a row range can write into its own slice), and so
    /// does the epilogue's residual row.
    public func multiplyTile(rows: Range<Int>, x: UnsafePointer<Float>, width: Int,
                             y: UnsafeMutablePointer<Float>, ldy: Int, epilogue: KernelEpilogue) {
        guard width > 0 else { return }
        if kernelInstructionSet == .avx512 {
            multiplyTileAVX512(rows: rows, x: x, width: width, y: y, ldy: ldy, epilogue: epilogue)
            return
        }
        let entries = UnsafePointer(self.entries)
        for r in rows {
            let e0 = rowStart[r], count = rowStart[r + 1] - e0
            let row = entries + e0
            let out = y + (r - rows.lowerBound) * ldy
            let bias = epilogue.bias.map { $0[r] } ?? 0
            let residual = epilogue.residual.map { $0 + (r - rows.lowerBound) * ldy }
            let b = Vector(repeating: bias), lo = Vector(repeating: epilogue.lo), hi = Vector(repeating: epilogue.hi)
            let gelu = epilogue.gelu
            // GELU runs as a second pass over the finished row (below): inlined here it made the
            // register-blocked loops spill (kernel-bench: +2 ms on MiniLM's FFN, +0.5 ms as a pass).
            @inline(__always) func finish(_ v: Vector, _ j: Int) -> Vector {
                var r = v + b
                if let residual { r += Self.load(residual + j) }
                if gelu { return r }
                // Selects, not `clamped` (whose generic min/max is not inlined).
                r.replace(with: lo, where: r .< lo)
                r.replace(with: hi, where: r .> hi)
                return r
            }
            if width < 8 {
                for j in 0..<width {
                    var s: Float = 0
                    for i in 0..<count { s += row[i].value * x[Int(row[i].offset) + j] }
                    s += bias + (residual?[j] ?? 0)
                    out[j] = gelu ? Lanes.GELU().apply(Vector(repeating: s))[0] : min(max(s, epilogue.lo), epilogue.hi)
                }
                continue
            }
            var j = 0
            while j + 64 <= width {
                let a = Self.accumulate64(row, count, x + j)
                store(finish(a.0, j), out + j); store(finish(a.1, j + 8), out + j + 8)
                store(finish(a.2, j + 16), out + j + 16); store(finish(a.3, j + 24), out + j + 24)
                store(finish(a.4, j + 32), out + j + 32); store(finish(a.5, j + 40), out + j + 40)
                store(finish(a.6, j + 48), out + j + 48); store(finish(a.7, j + 56), out + j + 56)
                j += 64
            }
            while j + 32 <= width {
                let (a0, a1, a2, a3) = Self.accumulate32(row, count, x + j)
                store(finish(a0, j), out + j); store(finish(a1, j + 8), out + j + 8)
                store(finish(a2, j + 16), out + j + 16); store(finish(a3, j + 24), out + j + 24)
                j += 32
            }
            if j + 16 <= width {
                let (a0, a1) = Self.accumulate16(row, count, x + j)
                store(finish(a0, j), out + j); store(finish(a1, j + 8), out + j + 8)
                j += 16
            }
            if j + 8 <= width {
                store(finish(Self.accumulate8(row, count, x + j), j), out + j)
                j += 8
            }
            if j < width {
                let last = width - 8
                store(finish(Self.accumulate8(row, count, x + last), last), out + last)
            }
            if gelu { VectorMath.gelu(out, out, count: width) }
        }
    }

    /// The AVX-512F kernel (C, `CKernels`), epilogue (bias, clamp or GELU) fused there.
    func multiplyTileAVX512(rows: Range<Int>, x: UnsafePointer<Float>, width: Int,
                            y: UnsafeMutablePointer<Float>, ldy: Int, epilogue: KernelEpilogue) {
        spdy_sparse_rows_avx512(UnsafeRawPointer(rowStart).assumingMemoryBound(to: Int64.self), UnsafeRawPointer(entries),
                                Int64(rows.lowerBound), Int64(rows.upperBound), x, Int64(width), y, Int64(ldy), epilogue.bias,
                                epilogue.residual, epilogue.lo, epilogue.hi, epilogue.gelu ? 1 : 0)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inline(__always)
    func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }

    /// 64 columns: eight accumulators, one nonzero per step (fewer loads per FMA than two
    /// 32-column passes: the entry and its broadcast are loaded once for eight vectors).
    @inline(__always)
    static func accumulate64(_ row: UnsafePointer<Entry>, _ count: Int, _ x: UnsafePointer<Float>)
        -> (Vector, Vector, Vector, Vector, Vector, Vector, Vector, Vector) {
        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
        var a4 = Vector(), a5 = Vector(), a6 = Vector(), a7 = Vector()
        for i in 0..<count {
            let p = x + Int(row[i].offset), v = Vector(repeating: row[i].value)
            a0.addProduct(v, load(p)); a1.addProduct(v, load(p + 8))
            a2.addProduct(v, load(p + 16)); a3.addProduct(v, load(p + 24))
            a4.addProduct(v, load(p + 32)); a5.addProduct(v, load(p + 40))
            a6.addProduct(v, load(p + 48)); a7.addProduct(v, load(p + 56))
        }
        return (a0, a1, a2, a3, a4, a5, a6, a7)
    }

    @inline(__always)
    static func accumulate32(_ row: UnsafePointer<Entry>, _ count: Int, _ x: UnsafePointer<Float>)
        -> (Vector, Vector, Vector, Vector) {
        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
        var b0 = Vector(), b1 = Vector(), b2 = Vector(), b3 = Vector()
        var i = 0
        while i + 2 <= count {
            let p = x + Int(row[i].offset), q = x + Int(row[i + 1].offset)
            let v = Vector(repeating: row[i].value), w = Vector(repeating: row[i + 1].value)
            a0.addProduct(v, load(p)); a1.addProduct(v, load(p + 8))
            a2.addProduct(v, load(p + 16)); a3.addProduct(v, load(p + 24))
            b0.addProduct(w, load(q)); b1.addProduct(w, load(q + 8))
            b2.addProduct(w, load(q + 16)); b3.addProduct(w, load(q + 24))
            i += 2
        }
        if i < count {
            let p = x + Int(row[i].offset), v = Vector(repeating: row[i].value)
            a0.addProduct(v, load(p)); a1.addProduct(v, load(p + 8))
            a2.addProduct(v, load(p + 16)); a3.addProduct(v, load(p + 24))
        }
        return (a0 + b0, a1 + b1, a2 + b2, a3 + b3)
    }

    @inline(__always)
    static func accumulate16(_ row: UnsafePointer<Entry>, _ count: Int, _ x: UnsafePointer<Float>) -> (Vector, Vector) {
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector()
        var c0 = Vector(), c1 = Vector(), d0 = Vector(), d1 = Vector()
        var i = 0
        while i + 4 <= count {
            let p = x + Int(row[i].offset), q = x + Int(row[i + 1].offset)
            let s = x + Int(row[i + 2].offset), t = x + Int(row[i + 3].offset)
            let v = Vector(repeating: row[i].value), w = Vector(repeating: row[i + 1].value)
            let u = Vector(repeating: row[i + 2].value), z = Vector(repeating: row[i + 3].value)
            a0.addProduct(v, load(p)); a1.addProduct(v, load(p + 8))
            b0.addProduct(w, load(q)); b1.addProduct(w, load(q + 8))
            c0.addProduct(u, load(s)); c1.addProduct(u, load(s + 8))
            d0.addProduct(z, load(t)); d1.addProduct(z, load(t + 8))
            i += 4
        }
        while i < count {
            let p = x + Int(row[i].offset), v = Vector(repeating: row[i].value)
            a0.addProduct(v, load(p)); a1.addProduct(v, load(p + 8))
            i += 1
        }
        return ((a0 + b0) + (c0 + d0), (a1 + b1) + (c1 + d1))
    }

    @inline(__always)
    static func accumulate8(_ row: UnsafePointer<Entry>, _ count: Int, _ x: UnsafePointer<Float>) -> Vector {
        var a = Vector(), b = Vector(), c = Vector(), d = Vector()
        var i = 0
        while i + 4 <= count {
            a.addProduct(Vector(repeating: row[i].value), load(x + Int(row[i].offset)))
            b.addProduct(Vector(repeating: row[i + 1].value), load(x + Int(row[i + 1].offset)))
            c.addProduct(Vector(repeating: row[i + 2].value), load(x + Int(row[i + 2].offset)))
            d.addProduct(Vector(repeating: row[i + 3].value), load(x + Int(row[i + 3].offset)))
            i += 4
        }
        while i < count {
            a.addProduct(Vector(repeating: row[i].value), load(x + Int(row[i].offset)))
            i += 1
        }
        return (a + b) + (c + d)
    }
}
