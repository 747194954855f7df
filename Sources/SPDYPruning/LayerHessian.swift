import CBLAS
import Dispatch
import SPDYEngine
import SPDYGraph
import SPDYKernels
import SPDYTensor

/// The input statistics of one prunable layer over calibration data: per group of rows,
/// `H = Σ x xᵀ` over every input vector `x` the layer's rows read (Linear: one per token or
/// sample; Conv: one unfolded patch per output position). Reconstruction needs nothing else:
/// `‖(W' − W) X‖² = Σ_rows (w' − w)ᵀ H (w' − w)`.
///
/// Optionally keeps one `H` per accumulated batch (AdaPrune's minibatch gradients).
public final class LayerHessian: @unchecked Sendable {
    /// The layer.
    public let layer: PrunableLayer
    /// Its weight as a matrix.
    public let layout: WeightLayout
    /// `columns × columns`, row-major, one per group (symmetric after ``finish()``).
    public private(set) var matrices: [[Double]]
    /// Per accumulated batch, per group, `columns × columns` (Float), when requested.
    public private(set) var batchMatrices: [[[Float]]] = []
    /// Input vectors accumulated (per group).
    public private(set) var vectorCount = 0
    /// Input vectors of each kept batch (with ``batchMatrices``).
    public private(set) var batchVectorCounts: [Int] = []
    private let keepsBatches: Bool
    private let convNode: Node?

    /// Creates an empty accumulator for `layer` of `graph`.
    public init(layer: PrunableLayer, graph: Graph, keepBatches: Bool = false) throws {
        self.layer = layer
        layout = try WeightLayout(layer: layer, graph: graph)
        keepsBatches = keepBatches
        let node = graph.nodes.first { $0.name == layer.node }
        if layer.opType == "Conv" {
            guard layer.weightShape.count == 4 else {
                throw PruningError.unsupportedLayer(layer: layer.id, reason: "only 2-D convolutions are supported")
            }
            convNode = node
        } else {
            convNode = nil
            if let node, layer.opType == "Gemm", try node.int("transA", default: 0) != 0 {
                throw PruningError.unsupportedLayer(layer: layer.id, reason: "Gemm with transA = 1")
            }
        }
        let d = layout.columns
        matrices = [[Double]](repeating: [Double](repeating: 0, count: d * d), count: layout.groups)
    }

    /// Adds one batch of the layer's input (as the dense model computed it). `tokenMask` (one
    /// entry per sample and position) keeps only the real tokens of a Linear layer's
    /// `[batch × sequence × features]` input; other inputs ignore it.
    public func accumulate(input: Tensor, threads: Int = 1, tokenMask: [Bool]? = nil) throws {
        guard input.dataType == .float32 else {
            throw PruningError.unsupportedLayer(layer: layer.id, reason: "input is \(input.dataType), not float32")
        }
        let d = layout.columns
        var batchSums: [[Float]]
        let vectors: Int
        if let node = convNode {
            guard let g = try ConvGeometry(node: node, input: input.shape, weight: layer.weightShape), g.patchSize == d else {
                throw PruningError.unsupportedLayer(layer: layer.id, reason: "input \(input.shape) does not fit weight \(layer.weightShape)")
            }
            batchSums = convolutionSums(g, input: input, threads: threads)
            vectors = g.batch * g.outHeight * g.outWidth
        } else {
            guard input.rank >= 1, input.shape.last == d else {
                throw PruningError.unsupportedLayer(layer: layer.id, reason: "input \(input.shape) does not end in \(d) features")
            }
            var sum = [Float](repeating: 0, count: d * d)
            func accumulate(_ x: UnsafeBufferPointer<Float>, _ count: Int) {
                guard count > 0 else { return }
                sum.withUnsafeMutableBufferPointer { h in
                    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(count), 1, x.baseAddress, Int32(d),
                                0, h.baseAddress, Int32(d))
                }
            }
            if let tokenMask, input.rank == 3, input.count / d == tokenMask.count {
                // Only the real tokens' rows, compacted (the copy is made only when masking).
                var rows = input.floats
                var kept = 0
                for (row, real) in tokenMask.enumerated() where real {
                    if kept != row { for j in 0..<d { rows[kept * d + j] = rows[row * d + j] } }
                    kept += 1
                }
                vectors = kept
                rows.withUnsafeBufferPointer { accumulate($0, kept) }
            } else {
                vectors = input.count / d
                input.withUnsafeFloats { accumulate($0, vectors) }
            }
            batchSums = [sum]
        }
        vectorCount += vectors
        for group in 0..<layout.groups {
            Self.symmetrise(&batchSums[group], d)
            for i in 0..<(d * d) { matrices[group][i] += Double(batchSums[group][i]) }
        }
        if keepsBatches {
            batchMatrices.append(batchSums)
            batchVectorCounts.append(vectors)
        }
    }

    /// Upper-triangle sums of the unfolded patches of every image, per group.
    private func convolutionSums(_ g: ConvGeometry, input: Tensor, threads: Int) -> [[Float]] {
        let d = g.patchSize, positions = g.outHeight * g.outWidth
        let imageSize = g.inChannels * g.inHeight * g.inWidth
        let workers = max(1, min(threads, g.batch))
        var partial = [[Float]](repeating: [Float](repeating: 0, count: g.groups * d * d), count: workers)
        input.withUnsafeFloats { x in
            partial.withUnsafeMutableBufferPointer { sums in
                let sumsBase = sums.baseAddress!
                ThreadPool(threads: workers).parallelChunks(g.batch) { worker, images in
                    let columns = UnsafeMutablePointer<Float>.allocate(capacity: d * positions)
                    defer { columns.deallocate() }
                    sumsBase[worker].withUnsafeMutableBufferPointer { h in
                        for image in images {
                            for group in 0..<g.groups {
                                let first = x.baseAddress! + image * imageSize + group * g.groupInChannels * g.inHeight * g.inWidth
                                Im2col.unfold(g, input: first, columns: columns)
                                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(d), Int32(positions), 1,
                                            columns, Int32(positions), 1, h.baseAddress! + group * d * d, Int32(d))
                            }
                        }
                    }
                }
            }
        }
        return (0..<g.groups).map { group in
            var total = [Float](repeating: 0, count: d * d)
            for worker in partial { for i in 0..<(d * d) { total[i] += worker[group * d * d + i] } }
            return total
        }
    }

    /// Copies the upper triangle of a row-major `d × d` matrix into its lower triangle.
    private static func symmetrise(_ m: inout [Float], _ d: Int) {
        for i in 0..<d { for j in 0..<i { m[i * d + j] = m[j * d + i] } }
    }
}
