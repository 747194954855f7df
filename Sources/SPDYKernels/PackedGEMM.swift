import CKernels

/// A dense product with a constant left operand packed once: C[M×N] = A[M×K] · B[K×N], all
/// row-major, computed by a register-blocked micro-kernel: 6 rows × 16 columns in AVX2/FMA, or
/// 6 rows × 32 columns (two B panels) in AVX-512F (`spdy_gemm_panel_avx512`, C) where the CPU has it.
///
/// OpenBLAS packs A again on every call and runs thin products (few rows or columns, as in
/// convolutions on small planes) far below peak; here A (the weights) is packed at plan-compile
/// time and B is packed per 16-column panel into a small per-thread buffer.
public struct PackedMatrix: @unchecked Sendable {
    /// Rows per micro-tile.
    public static let mr = 6
    /// Columns per micro-tile (two 8-lane vectors).
    public static let nr = 16

    public let rows: Int, depth: Int
    /// Panels of `mr` rows, each stored k-major: panel[p][k][r]; padded rows are zero.
    let storage: UnsafeMutablePointer<Float>
    let panels: Int
    /// The micro-kernel's instruction set, `KernelInstructionSet.active` when the matrix was packed.
    public let kernelInstructionSet: KernelInstructionSet

    /// Packs `a` ([rows × depth], row-major, leading dimension `lda`) into storage it owns.
    public init(rows: Int, depth: Int, a: UnsafePointer<Float>, lda: Int) {
        let storage = AlignedFloats.allocate(Self.storageSize(rows: rows, depth: depth))
        self.init(rows: rows, depth: depth, a: a, lda: lda, storage: storage)
    }

    /// Floats of packed storage a [rows × depth] matrix takes.
    public static func storageSize(rows: Int, depth: Int) -> Int { max(1, (rows + mr - 1) / mr * depth * mr) }

    /// Packs `a` into caller-owned `storage` (`storageSize` floats), for operands that change
    /// every run (attention products): do not call `deallocate` on the result.
    public init(rows: Int, depth: Int, a: UnsafePointer<Float>, lda: Int, storage: UnsafeMutablePointer<Float>) {
        self.rows = rows
        self.depth = depth
        kernelInstructionSet = .active
        panels = (rows + Self.mr - 1) / Self.mr
        self.storage = storage
        if rows % Self.mr != 0 {  // zero the padded rows of the last panel
            storage.update(repeating: 0, count: Self.storageSize(rows: rows, depth: depth))
        }
        for p in 0..<panels {
            for r in 0..<Self.mr where p * Self.mr + r < rows {
                let src = a + (p * Self.mr + r) * lda
                let dst = storage + p * depth * Self.mr + r
                for k in 0..<depth { dst[k * Self.mr] = src[k] }
            }
        }
    }

    /// Frees the packed storage. Call once, when the owner is done.
    public func deallocate() { storage.deallocate() }

    /// Bytes of packed B a chunk may take: about L2, so every A panel is read from memory once
    /// per chunk instead of once per 16-column panel (A of a deep layer is megabytes).
    static let chunkBytes = 384 * 1024

    /// Columns of B packed per chunk for a product of this depth (a multiple of `nr`).
    public static func chunkColumns(depth: Int) -> Int { max(nr, chunkBytes / (4 * max(1, depth)) / nr * nr) }

    /// Columns of B packed per chunk.
    public var chunkColumns: Int { Self.chunkColumns(depth: depth) }

    /// Scratch floats each thread of a `multiply` call needs (one packed chunk of B).
    public static func scratchPerThread(depth: Int) -> Int { depth * chunkColumns(depth: depth) }

    /// Scratch floats each thread of a `multiply` call needs for this matrix.
    public var scratchPerThread: Int { Self.scratchPerThread(depth: depth) }

    /// C[rows × n] = epilogue(A · B[depth × n]) (`ldb`, `ldc` leading dimensions; the epilogue's
    /// residual is laid out like C). B is taken a chunk of columns at a time; each chunk is one
    /// parallel region in which every thread packs the B panels it needs into its own part of
    /// `scratch` (`scratchPerThread × pool.threads` floats) and multiplies its row panels of A (or,
    /// with few row panels, its column panels).
    public func multiply(n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                         scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, epilogue: KernelEpilogue = .identity,
                         instructionSet: KernelInstructionSet? = nil) {
        let chunk = chunkColumns, depth = self.depth, perThread = scratchPerThread
        let avx512 = (instructionSet ?? kernelInstructionSet) == .avx512
        // Split by rows only when A is tall: then every thread packs the whole chunk of B, which
        // costs about 16 · threads / rows of the multiply (~1 cycle per packed value against
        // 16 multiply-adds per cycle); for shorter A, threads take column panels instead.
        let byRows = rows >= 256 && panels >= 4 * pool.threads
        var start = 0
        while start < n {
            let width = min(chunk, n - start)
            let columnPanels = (width + Self.nr - 1) / Self.nr
            pool.parallelChunks(byRows ? panels : columnPanels) { thread, range in
                let packed = scratch + thread * perThread
                let columns = byRows ? 0..<columnPanels : range
                for j in columns {
                    let j0 = j * Self.nr
                    self.packPanel(b: b + start + j0, ldb: ldb, width: min(Self.nr, width - j0),
                                   into: packed + (j - columns.lowerBound) * depth * Self.nr)
                }
                for p in byRows ? range : 0..<self.panels {
                    if avx512 {
                        self.panelAVX512(p, columns: columns, width: width, packed: packed, c: c + p * Self.mr * ldc + start,
                                         ldc: ldc, epilogue: epilogue.advanced(by: p * Self.mr * ldc + start))
                        continue
                    }
                    for j in columns {
                        let j0 = j * Self.nr
                        self.microKernel(panel: p, packedB: packed + (j - columns.lowerBound) * depth * Self.nr,
                                         c: c + p * Self.mr * ldc + start + j0, ldc: ldc,
                                         rows: min(Self.mr, self.rows - p * Self.mr), width: min(Self.nr, width - j0),
                                         epilogue: epilogue.advanced(by: p * Self.mr * ldc + start + j0), firstRow: p * Self.mr)
                    }
                }
            }
            start += width
        }
    }

    /// Row panel `p` against the packed column panels `columns` (relative to `packed`), two
    /// panels per AVX-512 call.
    @inline(__always)
    func panelAVX512(_ p: Int, columns: Range<Int>, width: Int, packed: UnsafeMutablePointer<Float>,
                     c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: KernelEpilogue) {
        let a = UnsafePointer(storage + p * depth * Self.mr), rows = min(Self.mr, self.rows - p * Self.mr)
        let bias = epilogue.bias.map { $0 + p * Self.mr }
        var j = columns.lowerBound
        while j < columns.upperBound {
            let pair = j + 1 < columns.upperBound
            let j0 = j * Self.nr
            let b0 = packed + (j - columns.lowerBound) * depth * Self.nr
            let cols = min(pair ? 2 * Self.nr : Self.nr, width - j0)
            spdy_gemm_panel_avx512(a, Int64(depth), b0, pair ? b0 + depth * Self.nr : nil, c + j0, Int64(ldc), Int64(rows),
                                   Int64(cols), bias, epilogue.residual.map { $0 + j0 }, epilogue.lo, epilogue.hi)
            j += pair ? 2 : 1
        }
    }

    @inline(__always)
    func packPanel(b: UnsafePointer<Float>, ldb: Int, width: Int, into packed: UnsafeMutablePointer<Float>) {
        if width == Self.nr {
            for k in 0..<depth { (packed + k * Self.nr).update(from: b + k * ldb, count: Self.nr) }
        } else {
            for k in 0..<depth {
                let dst = packed + k * Self.nr
                for x in 0..<width { dst[x] = b[k * ldb + x] }
                for x in width..<Self.nr { dst[x] = 0 }
            }
        }
    }

    @inline(__always)
    func microKernel(panel: Int, packedB: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                     rows: Int, width: Int, epilogue: KernelEpilogue, firstRow: Int) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var a = UnsafePointer(storage + panel * depth * Self.mr)
        var bp = packedB
        for _ in 0..<depth {
            let b0 = UnsafeRawPointer(bp).loadUnaligned(as: V.self)
            let b1 = UnsafeRawPointer(bp + 8).loadUnaligned(as: V.self)
            var s = V(repeating: a[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = V(repeating: a[1]); c10.addProduct(s, b0); c11.addProduct(s, b1)
            s = V(repeating: a[2]); c20.addProduct(s, b0); c21.addProduct(s, b1)
            s = V(repeating: a[3]); c30.addProduct(s, b0); c31.addProduct(s, b1)
            s = V(repeating: a[4]); c40.addProduct(s, b0); c41.addProduct(s, b1)
            s = V(repeating: a[5]); c50.addProduct(s, b0); c51.addProduct(s, b1)
            a += Self.mr
            bp += Self.nr
        }
        let low = V(repeating: epilogue.lo), high = V(repeating: epilogue.hi)
        @inline(__always) func store(_ r: Int, _ first: V, _ second: V) {
            guard r < rows else { return }
            let bias = V(repeating: epilogue.bias?[firstRow + r] ?? 0)
            var first = first + bias, second = second + bias
            if let residual = epilogue.residual.map({ $0 + r * ldc }) {
                if width == Self.nr {
                    first += UnsafeRawPointer(residual).loadUnaligned(as: V.self)
                    second += UnsafeRawPointer(residual + 8).loadUnaligned(as: V.self)
                } else {
                    for x in 0..<min(width, 8) { first[x] += residual[x] }
                    for x in 8..<max(8, width) { second[x - 8] += residual[x] }
                }
            }
            let lo = VectorMath.clamp(first, low, high), hi = VectorMath.clamp(second, low, high)
            let row = c + r * ldc
            if width == Self.nr {
                UnsafeMutableRawPointer(row).storeBytes(of: lo, as: V.self)
                UnsafeMutableRawPointer(row + 8).storeBytes(of: hi, as: V.self)
            } else {
                for x in 0..<width { row[x] = x < 8 ? lo[x] : hi[x - 8] }
            }
        }
        store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
        store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
    }
}
