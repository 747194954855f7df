/// A constant sparse matrix A [rows × depth] (the weights of a pruned layer) compressed row by
/// row for products with dense column tiles: Y[r, j] = Σ_k A[r, k] · X[k, j].
///
/// Each nonzero is stored as an `Entry`: its value and the element offset of its X row, fixed at
/// build time (`columnOffsets[k]`). Offsets instead of column indices let one kernel serve plain
/// products (offset = k · ldx), im2col products and direct convolutions, where the X row of tap
/// (c, ky, kx) is the input plane of channel c shifted by ky rows and kx columns.
public struct SparseMatrix: @unchecked Sendable {
    /// One nonzero: the element offset of its X row and its value (8 bytes, one stream).
    public struct Entry: Sendable {
        public var offset: Int32
        public var value: Float
    }

    public let rows: Int, depth: Int
    /// Number of stored nonzeros.
    public let nonzeros: Int
    /// Row r's entries are `entries[rowStart[r] ..< rowStart[r + 1]]`, in increasing column order.
    let rowStart: UnsafeMutablePointer<Int>
    let entries: UnsafeMutablePointer<Entry>
    /// The kernel's instruction set, `KernelInstructionSet.active` when the matrix was built.
    public let kernelInstructionSet: KernelInstructionSet

    /// Compresses `a` ([rows × depth], row-major, leading dimension `lda`), keeping entries that
    /// are not zero; column k of A multiplies X at element offset `columnOffsets[k]`.
    public init(rows: Int, depth: Int, a: UnsafePointer<Float>, lda: Int, columnOffsets: [Int]) {
        precondition(columnOffsets.count == depth, "one offset per column")
        precondition(columnOffsets.allSatisfy { $0 >= 0 && $0 <= Int(Int32.max) }, "offsets must fit in Int32")
        self.rows = rows
        self.depth = depth
        kernelInstructionSet = .active
        var count = 0
        for r in 0..<rows { for k in 0..<depth where a[r * lda + k] != 0 { count += 1 } }
        nonzeros = count
        rowStart = .allocate(capacity: rows + 1)
        entries = .allocate(capacity: max(1, count))
        var e = 0
        for r in 0..<rows {
            rowStart[r] = e
            for k in 0..<depth where a[r * lda + k] != 0 {
                entries[e] = Entry(offset: Int32(columnOffsets[k]), value: a[r * lda + k])
                e += 1
            }
        }
        rowStart[rows] = e
    }

    /// The same matrix with X rows `ldx` elements apart (offset of column k = k · ldx).
    public init(rows: Int, depth: Int, a: UnsafePointer<Float>, lda: Int, ldx: Int) {
        self.init(rows: rows, depth: depth, a: a, lda: lda, columnOffsets: (0..<depth).map { $0 * ldx })
    }

    /// Frees the storage. Call once, when the owner is done.
    public func deallocate() {
        rowStart.deallocate()
        entries.deallocate()
    }

    /// Fraction of entries that are nonzero.
    public var density: Double { rows * depth == 0 ? 0 : Double(nonzeros) / Double(rows * depth) }

    /// Nonzeros of rows `rows`.
    public func nonzeros(in rows: Range<Int>) -> Int { rowStart[rows.upperBound] - rowStart[rows.lowerBound] }
}

