import CBLAS
import Dispatch
import Foundation
import SPDYCore
import SPDYKernels

/// The exact layer-wise reconstruction (the database's default method).
///
/// For a mask, the weights minimising `‖(W' − W) X‖²` are a least-squares problem per row:
/// `w'_M = (H_MM)⁻¹ (H w)_M` with `H = X Xᵀ` dampened by `dampening · mean(diag H)`; this
/// computes it exactly (Cholesky, LAPACK). Masks are nested and chosen greedily by the OBS
/// saliency `w'_q² / [(H_MM)⁻¹]_qq`: the exact increase of the row's error when weight `q` alone
/// is removed and the row re-solved. Each stage removes the least salient surviving weights of
/// the whole layer (rows compete, as their errors add up), re-solves the rows that lost weights,
/// and recomputes their saliencies. Stages follow the grid, with intermediate stages so that no
/// stage removes more than `1 − maximumStepRatio` of the surviving weights.
public struct ExactReconstructor: Sendable {
    /// Relative dampening of `H` (fraction of its mean diagonal).
    public var dampening: Double
    /// The smallest ratio of survivors after/before one stage.
    public var maximumStepRatio: Double
    /// Worker threads (rows are solved in parallel).
    public var threads: Int

    /// Creates a reconstructor.
    public init(dampening: Double = 0.01, maximumStepRatio: Double = 0.9, threads: Int = 1) {
        precondition(dampening > 0 && maximumStepRatio > 0 && maximumStepRatio < 1 && threads >= 1)
        self.dampening = dampening
        self.maximumStepRatio = maximumStepRatio
        self.threads = threads
    }

    /// Every level of `grid` for the layer whose dense weights (matrix order) are `weights`.
    public func reconstruct(weights: [Float], hessian: LayerHessian, grid: SparsityGrid,
                            progress: (Int) -> Void = { _ in }) throws -> LayerLevels
    {
        openblas_set_num_threads(1)
        let layout = hessian.layout
        let d = layout.columns, rowCount = layout.rows, n = layout.count
        precondition(weights.count == n, "weights do not match the layout")
        let id = hessian.layer.id
        // Dampened Hessians, and the per-row targets g_r = H_d w_r.
        var dampened: [[Double]] = []
        var lambdas: [Double] = []
        for h in hessian.matrices {
            var mean = 0.0
            for i in 0..<d { mean += h[i * d + i] }
            mean /= Double(d)
            let lambda = mean > 0 && mean.isFinite ? dampening * mean : 1
            var hd = h
            for i in 0..<d { hd[i * d + i] += lambda }
            dampened.append(hd)
            lambdas.append(lambda)
        }
        let dense = weights.map(Double.init)
        var targets = [Double](repeating: 0, count: n)
        for r in 0..<rowCount {
            let hd = dampened[r / layout.rowsPerGroup]
            for i in 0..<d {
                var s = 0.0
                for j in 0..<d { s += hd[i * d + j] * dense[r * d + j] }
                targets[r * d + i] = s
            }
        }
        var current = dense
        var kept = [Bool](repeating: true, count: n)
        var saliency = [Double](repeating: 0, count: n)
        // Dense saliencies: one inverse per group serves all its rows.
        for (group, hd) in dampened.enumerated() {
            var inverse = hd
            try Self.invertInPlace(&inverse, d, layer: id)
            for r in (group * layout.rowsPerGroup)..<((group + 1) * layout.rowsPerGroup) {
                for q in 0..<d { saliency[r * d + q] = dense[r * d + q] * dense[r * d + q] / max(inverse[q * d + q], 1e-300) }
            }
        }
        var removal = [UInt8](repeating: UInt8(grid.count), count: n)
        var values: [[Float]] = [weights]
        var errors: [Double] = [0]
        var survivors = n
        var stageDensity = 1.0
        for level in 1..<grid.count {
            let target = 1 - grid.sparsities[level]
            var stages: [Double] = []
            while stageDensity * maximumStepRatio > target * (1 + 1e-9) {
                stageDensity *= maximumStepRatio
                stages.append(stageDensity)
            }
            stages.append(target)
            stageDensity = target
            for density in stages {
                let goal = min(survivors, Int((density * Double(n)).rounded()))
                guard goal < survivors else { continue }
                var candidates: [(Double, Int)] = []
                candidates.reserveCapacity(survivors)
                for i in 0..<n where kept[i] { candidates.append((saliency[i], i)) }
                candidates.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                var dirty = Set<Int>()
                for (_, i) in candidates.prefix(survivors - goal) {
                    kept[i] = false
                    removal[i] = UInt8(level)
                    current[i] = 0
                    dirty.insert(i / d)
                }
                survivors = goal
                try solveRows(Array(dirty).sorted(), d: d, layout: layout, dampened: dampened, targets: targets,
                              kept: kept, current: &current, saliency: &saliency, layer: id)
            }
            var levelValues: [Float] = []
            levelValues.reserveCapacity(survivors)
            for i in 0..<n where kept[i] { levelValues.append(Float(current[i])) }
            values.append(levelValues)
            errors.append(ReconstructionError.normalised(candidate: current.map(Float.init), dense: weights, layout: layout,
                                                         hessians: hessian.matrices))
            progress(level)
        }
        return LayerLevels(layout: layout, removal: removal, values: values, errors: errors)
    }

    /// Re-solves `rows` for their current masks: new weights and saliencies.
    private func solveRows(_ rows: [Int], d: Int, layout: WeightLayout, dampened: [[Double]], targets: [Double],
                           kept: [Bool], current: inout [Double], saliency: inout [Double], layer: String) throws
    {
        guard !rows.isEmpty else { return }
        let failures = FailureBox()
        current.withUnsafeMutableBufferPointer { currentBuffer in
            saliency.withUnsafeMutableBufferPointer { saliencyBuffer in
                let currentBase = currentBuffer.baseAddress!, saliencyBase = saliencyBuffer.baseAddress!
                ThreadPool(threads: threads).parallelChunks(rows.count) { _, chunk in
                    var matrix = [Double](repeating: 0, count: d * d)
                    var indices = [Int](repeating: 0, count: d)
                    for position in chunk {
                        let r = rows[position]
                        let hd = dampened[r / layout.rowsPerGroup]
                        var k = 0
                        for q in 0..<d where kept[r * d + q] { indices[k] = q; k += 1 }
                        guard k > 0 else { continue }
                        for a in 0..<k {
                            let rowBase = indices[a] * d
                            for b in 0..<k { matrix[a * k + b] = hd[rowBase + indices[b]] }
                        }
                        do { try Self.invertInPlace(&matrix, k, layer: layer) } catch {
                            failures.record(error)
                            return
                        }
                        for a in 0..<k {
                            var s = 0.0
                            for b in 0..<k { s += matrix[a * k + b] * targets[r * d + indices[b]] }
                            let q = r * d + indices[a]
                            currentBase[q] = s
                            saliencyBase[q] = s * s / max(matrix[a * k + a], 1e-300)
                        }
                    }
                }
            }
        }
        if let failure = failures.first { throw failure }
    }

    /// Inverts a symmetric positive-definite row-major `k × k` matrix in place (full result).
    static func invertInPlace(_ matrix: inout [Double], _ k: Int, layer: String) throws {
        var n = Int32(k), lda = Int32(k), info: Int32 = 0
        var uplo = CChar(UInt8(ascii: "L"))
        matrix.withUnsafeMutableBufferPointer { a in
            dpotrf_(&uplo, &n, a.baseAddress, &lda, &info)
            if info == 0 { dpotri_(&uplo, &n, a.baseAddress, &lda, &info) }
        }
        guard info == 0 else {
            throw PruningError.numerical(layer: layer, reason: "the dampened input Hessian is not positive definite (LAPACK info \(info))")
        }
        // Column-major lower = row-major upper: mirror it into the lower half.
        for i in 0..<k { for j in 0..<i { matrix[i * k + j] = matrix[j * k + i] } }
    }
}

/// The first error thrown by any of several parallel workers.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?

    /// Keeps `error` unless one was recorded before.
    func record(_ error: any Error) {
        lock.lock()
        if self.error == nil { self.error = error }
        lock.unlock()
    }

    /// The first recorded error.
    var first: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}
