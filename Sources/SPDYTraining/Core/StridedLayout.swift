import RealModule
import SPDYKernels
import SPDYTensor

/// An N-dimensional index space walked by up to three operands, each with its own strides
/// (0 along broadcast axes, permuted for transposes, negative for reversed slices).
///
/// Axes of size 1 are dropped and adjacent axes merged wherever every operand steps through
/// them as one (so a same-shape elementwise op is one long row, a bias add is rows × channels).
/// Work is done a row (the innermost axis) at a time.
struct StridedLayout {
    /// Coalesced sizes of the outer axes (the innermost axis is `inner`).
    private(set) var outer: [Int]
    /// Per operand, the strides of the outer axes.
    private(set) var outerStrides: [[Int]]
    /// Length of a row.
    private(set) var inner: Int
    /// Per operand, the stride along a row.
    private(set) var innerStrides: [Int]
    /// Per operand, the offset of element 0.
    private(set) var bases: [Int]

    /// A layout over `shape` with `strides[op][axis]` per operand and base offsets.
    init(shape: [Int], strides: [[Int]], bases: [Int]? = nil) {
        precondition(strides.allSatisfy { $0.count == shape.count }, "strides \(strides) for shape \(shape)")
        let operands = strides.count
        var dims: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: operands)
        for axis in 0..<shape.count where shape[axis] != 1 {
            if let last = dims.last,
               (0..<operands).allSatisfy({ st[$0].last! == strides[$0][axis] * shape[axis] }) {
                dims[dims.count - 1] = last * shape[axis]
                for o in 0..<operands { st[o][st[o].count - 1] = strides[o][axis] }
            } else {
                dims.append(shape[axis])
                for o in 0..<operands { st[o].append(strides[o][axis]) }
            }
        }
        if shape.contains(0) { dims = [0]; st = Array(repeating: [1], count: operands) }
        if dims.isEmpty { dims = [1]; st = Array(repeating: [1], count: operands) }
        inner = dims.removeLast()
        innerStrides = st.map { $0.last! }
        outer = dims
        outerStrides = st.map { Array($0.dropLast()) }
        self.bases = bases ?? Array(repeating: 0, count: operands)
    }

    /// Strides that read a row-major tensor of `shape` broadcast (NumPy rules) to `outShape`.
    static func broadcastStrides(of shape: [Int], to outShape: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: outShape.count - shape.count) + shape
        let own = Tensor.strides(padded)
        return (0..<outShape.count).map { padded[$0] == 1 && outShape[$0] != 1 ? 0 : own[$0] }
    }

    /// A layout for an elementwise op writing `outShape` (contiguous) from inputs of
    /// `inputShapes` broadcast to it: operand 0 is the output, then the inputs.
    static func broadcast(to outShape: [Int], from inputShapes: [[Int]]) -> StridedLayout {
        StridedLayout(shape: outShape, strides: [Tensor.strides(outShape)] + inputShapes.map { broadcastStrides(of: $0, to: outShape) })
    }

    /// The number of rows.
    var rows: Int { outer.reduce(1, *) }

    /// Calls `body` with each operand's row start for rows `range`, in order.
    @inline(__always)
    func forEachRow(in range: Range<Int>, _ body: (_ offsets: UnsafeBufferPointer<Int>) -> Void) {
        let operands = bases.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: operands + outer.count) { scratch in
            let offsets = UnsafeMutableBufferPointer(rebasing: scratch[0..<operands])
            let counter = UnsafeMutableBufferPointer(rebasing: scratch[operands...])
            // Decompose the first row index into outer coordinates.
            var rest = range.lowerBound
            for axis in stride(from: outer.count - 1, through: 0, by: -1) {
                counter[axis] = rest % outer[axis]
                rest /= outer[axis]
            }
            for o in 0..<operands {
                var off = bases[o]
                for axis in 0..<outer.count { off += counter[axis] * outerStrides[o][axis] }
                offsets[o] = off
            }
            for _ in range {
                body(UnsafeBufferPointer(offsets))
                var axis = outer.count - 1
                while axis >= 0 {
                    counter[axis] += 1
                    for o in 0..<operands { offsets[o] += outerStrides[o][axis] }
                    if counter[axis] < outer[axis] { break }
                    for o in 0..<operands { offsets[o] -= outerStrides[o][axis] * outer[axis] }
                    counter[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    /// Whether rows can be split across threads with operand 0 written disjointly (no two rows
    /// write one element: operand 0 has no zero stride on an outer axis).
    var rowsWriteDisjointly: Bool { !outerStrides[0].contains(0) && innerStrides[0] != 0 }
}

/// Copies and accumulates through strided layouts: the primitive behind transposes, slices,
/// concatenation, padding, expansion and the reduction of broadcast gradients.
enum StridedCopy {
    /// `dst[layout op 0] = src[layout op 1]` (or `+=` with `accumulate`), element by element.
    /// With `accumulate`, operand 0 may repeat elements (zero strides: a sum reduction).
    static func run<S: TrainingScalar>(_ layout: StridedLayout, src: UnsafePointer<S>, dst: UnsafeMutablePointer<S>,
                                       accumulate: Bool, pool: ThreadPool? = nil) {
        let n = layout.inner
        if n == 0 { return }
        let ds = layout.innerStrides[0], ss = layout.innerStrides[1]
        let work = { (range: Range<Int>) in
            layout.forEachRow(in: range) { off in
                let d = dst + off[0], s = src + off[1]
                if accumulate {
                    if ds == 0 {
                        var acc: S = 0
                        if ss == 1 { for i in 0..<n { acc = Relaxed.sum(acc, s[i]) } } else { for i in 0..<n { acc = Relaxed.sum(acc, s[i * ss]) } }
                        d[0] += acc
                    } else if ds == 1 && ss == 1 {
                        for i in 0..<n { d[i] += s[i] }
                    } else {
                        for i in 0..<n { d[i * ds] += s[i * ss] }
                    }
                } else if ds == 1 && ss == 1 {
                    d.update(from: s, count: n)
                } else if ds == 1 && ss == 0 {
                    d.update(repeating: s[0], count: n)
                } else {
                    for i in 0..<n { d[i * ds] = s[i * ss] }
                }
            }
        }
        let rows = layout.rows
        if let pool, pool.threads > 1, rows > 1, rows * n >= 1 << 15, layout.rowsWriteDisjointly {
            pool.parallelFor(rows, grain: max(1, (1 << 13) / max(n, 1)), work)
        } else {
            work(0..<rows)
        }
    }

    /// Sums `gradient` (of `outShape`, contiguous) over the axes along which `shape` was
    /// broadcast to `outShape`: the gradient of a broadcast input.
    static func reduce<S: TrainingScalar>(_ gradient: Dense<S>, to shape: [Int], pool: ThreadPool? = nil) -> Dense<S> {
        if gradient.shape == shape { return gradient }
        if Tensor.elementCount(shape) == gradient.count { return gradient.reshaped(shape) }
        var result = Dense<S>(zeros: shape)
        let layout = StridedLayout(shape: gradient.shape,
                                   strides: [StridedLayout.broadcastStrides(of: shape, to: gradient.shape), Tensor.strides(gradient.shape)])
        gradient.data.withUnsafeBufferPointer { g in
            result.data.withUnsafeMutableBufferPointer { r in
                run(layout, src: g.baseAddress!, dst: r.baseAddress!, accumulate: true, pool: pool)
            }
        }
        return result
    }
}
