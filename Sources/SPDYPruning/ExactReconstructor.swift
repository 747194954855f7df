import CBLAS
import Foundation
import SPDYCore
import SPDYKernels

/// The exact layer-wise reconstruction (the database's default method), OBC-style.
///
/// For a mask, the weights minimising `‖(W' − W) X‖²` solve a least-squares problem per row,
/// `w'_M = (H_MM)⁻¹ (H w)_M`, with `H = X Xᵀ` dampened by `dampening · mean(diag H)` (which also
/// handles dead inputs). Removing a set `R` from a row's survivors with the OBS block update
/// `w' ← w' − H⁻¹_{:,R} (H⁻¹_RR)⁻¹ w'_R`, `H⁻¹ ← H⁻¹ − H⁻¹_{:,R} (H⁻¹_RR)⁻¹ H⁻¹_{R,:}` gives
/// exactly that optimum for the smaller mask and raises the row's error by `w'_Rᵀ (H⁻¹_RR)⁻¹ w'_R`.
///
/// 1. Every row walks its own greedy path: stages of at most `1 − maximumStepRatio` of its
///    survivors, each removing the least salient weights (`w'_q² / H⁻¹_qq`, the exact cost of
///    removing `q` alone) with the block update above; the path records each stage's error and
///    weights. Masks along a path are nested.
/// 2. Each grid level then takes every row to some stage of its path: starting from the previous
///    level's choice, the row whose next stage costs the least error per removed weight advances
///    until the layer has at most the level's survivor count (rows compete, as their errors add
///    up). Levels are therefore nested too, and exact for their masks.
///
/// Rows run in parallel; each keeps only its own compacted inverse (`d²` doubles).
public struct ExactReconstructor: Sendable {
    /// Relative dampening of `H` (fraction of its mean diagonal).
    public var dampening: Double
    /// The smallest ratio of a row's survivors after/before one stage of its path.
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

    /// One row's greedy path.
    struct RowPath {
        /// Survivors after each stage (stage 0: all).
        var counts: [Int] = []
        /// Error `(w' − w)ᵀ H_d (w' − w)` after each stage.
        var errors: [Double] = []
        /// Surviving values after each stage, in column order.
        var values: [[Float]] = []
        /// The stage at which each column is removed (`Int.max` if never).
        var removedAt: [Int] = []
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
        let inverses = try dampenedInverses(hessian)
        let schedule = Self.stageCounts(columns: d, grid: grid, ratio: maximumStepRatio)
        let paths = try rowPaths(weights: weights, layout: layout, inverses: inverses, schedule: schedule, layer: id)
        // Level allocation: advance the row whose next stage costs least per removed weight.
        var stage = [Int](repeating: 0, count: rowCount)
        var survivors = n
        var removal = [UInt8](repeating: UInt8(grid.count), count: n)
        var values: [[Float]] = [weights]
        var errors: [Double] = [0]
        func nextCost(_ r: Int) -> Double {
            let p = paths[r], s = stage[r]
            guard s + 1 < p.counts.count else { return .infinity }
            return (p.errors[s + 1] - p.errors[s]) / Double(p.counts[s] - p.counts[s + 1])
        }
        var costs = (0..<rowCount).map(nextCost)
        for level in 1..<grid.count {
            let goal = grid.survivors(level: level, of: n)
            while survivors > goal {
                var best = -1
                for r in 0..<rowCount where best < 0 || costs[r] < costs[best] { best = r }
                guard best >= 0, costs[best] < .infinity else { break }
                let p = paths[best]
                survivors -= p.counts[stage[best]] - p.counts[stage[best] + 1]
                stage[best] += 1
                costs[best] = nextCost(best)
            }
            var levelValues: [Float] = []
            levelValues.reserveCapacity(survivors)
            var matrix = [Float](repeating: 0, count: n)
            for r in 0..<rowCount {
                let p = paths[r], s = stage[r]
                levelValues += p.values[s]
                var next = 0
                for q in 0..<d where p.removedAt[q] > s {
                    matrix[r * d + q] = p.values[s][next]
                    next += 1
                }
                for q in 0..<d where p.removedAt[q] <= s && removal[r * d + q] == UInt8(grid.count) {
                    removal[r * d + q] = UInt8(level)
                }
            }
            values.append(levelValues)
            errors.append(ReconstructionError.normalised(candidate: matrix, dense: weights, layout: layout, hessians: hessian.matrices))
            progress(level)
        }
        return LayerLevels(layout: layout, removal: removal, values: values, errors: errors)
    }

    /// The N:M level of a layer: every row walks a greedy OBS path restricted to groups that still
    /// hold more than `n` weights (``patternStages`` stages, each removing the least salient
    /// eligible weights), ending with exactly `n` of every `m`; the surviving weights are exact
    /// for that mask (`w'_M = (H_MM)⁻¹ (H w)_M`). Returns two levels on `groups.pattern.grid`:
    /// dense and the pattern.
    public func reconstruct(weights: [Float], hessian: LayerHessian, groups: PatternGroups) throws -> LayerLevels {
        openblas_set_num_threads(1)
        let layout = hessian.layout
        let d = layout.columns, rowCount = layout.rows, n = layout.count
        precondition(weights.count == n && groups.columns == d, "weights do not match the layout")
        let id = hessian.layer.id
        let inverses = try dampenedInverses(hessian)
        let removals = d / groups.pattern.m * (groups.pattern.m - groups.pattern.n)
        let stages = max(1, min(removals, Self.patternStages))
        let schedule = (0...stages).map { d - removals * $0 / stages }
        let paths = try rowPaths(weights: weights, layout: layout, inverses: inverses, schedule: schedule, layer: id,
                                 groups: groups)
        var removal = [UInt8](repeating: 2, count: n)
        var survivors: [Float] = []
        var matrix = [Float](repeating: 0, count: n)
        for r in 0..<rowCount {
            let p = paths[r]
            var next = 0
            for q in 0..<d {
                if p.removedAt[q] == Int.max {
                    matrix[r * d + q] = p.values.last![next]
                    next += 1
                } else {
                    removal[r * d + q] = 1
                }
            }
            survivors += p.values.last!
        }
        let error = ReconstructionError.normalised(candidate: matrix, dense: weights, layout: layout, hessians: hessian.matrices)
        return LayerLevels(layout: layout, removal: removal, values: [weights, survivors], errors: [0, error])
    }

    /// Every row's path, rows in parallel.
    func rowPaths(weights: [Float], layout: WeightLayout, inverses: [[Double]], schedule: [Int], layer id: String,
                  groups: PatternGroups? = nil) throws -> [RowPath] {
        let d = layout.columns, rowCount = layout.rows
        var paths = [RowPath](repeating: RowPath(), count: rowCount)
        let failures = FailureBox()
        paths.withUnsafeMutableBufferPointer { pathBuffer in
            let pathBase = pathBuffer.baseAddress!
            ThreadPool(threads: threads).parallelChunks(rowCount) { _, rows in
                var scratch = PathScratch(columns: d)
                for r in rows {
                    do {
                        pathBase[r] = try Self.path(row: Array(weights[(r * d)..<((r + 1) * d)]),
                                                    inverse: inverses[r / layout.rowsPerGroup], schedule: schedule,
                                                    scratch: &scratch, layer: id, groups: groups)
                    } catch {
                        failures.record(error)
                        return
                    }
                }
            }
        }
        if let failure = failures.first { throw failure }
        return paths
    }

    /// Stages of an N:M path (equal numbers of removals each): finer stages choose the mask more
    /// like one-at-a-time OBS, at the cost of more inverse updates.
    static let patternStages = 16

    /// Per group of rows: the inverse of `H + λI`, `λ` = ``dampening`` × mean diagonal.
    func dampenedInverses(_ hessian: LayerHessian) throws -> [[Double]] {
        let d = hessian.layout.columns
        return try hessian.matrices.map { h in
            var mean = 0.0
            for i in 0..<d { mean += h[i * d + i] }
            mean /= Double(d)
            let lambda = mean > 0 && mean.isFinite ? dampening * mean : 1
            var inverse = h
            for i in 0..<d { inverse[i * d + i] += lambda }
            try Self.invertInPlace(&inverse, d, layer: hessian.layer.id)
            return inverse
        }
    }

    /// A row's survivor counts along its path: ratio steps down to the grid's first level, the
    /// grid's levels (with ratio steps between them where they are farther apart), then on to zero
    /// so that rows can give up more than the grid's maximum when others keep more.
    static func stageCounts(columns d: Int, grid: SparsityGrid, ratio: Double) -> [Int] {
        var densities: [Double] = [1]
        var current = 1.0
        for level in 1..<grid.count {
            let target = 1 - grid.sparsities[level]
            while current * ratio > target * (1 + 1e-9) { current *= ratio; densities.append(current) }
            densities.append(target)
            current = target
        }
        while current * Double(d) >= 1 { current *= ratio; densities.append(current) }
        var counts: [Int] = []
        for density in densities {
            let count = Int((density * Double(d)).rounded())
            if counts.last.map({ count < $0 }) ?? true { counts.append(count) }
        }
        if counts.last != 0 { counts.append(0) }
        return counts
    }

    /// Per-thread buffers of a path.
    struct PathScratch {
        var inverse: [Double], next: [Double], z: [Double], block: [Double], y: [Double]
        init(columns d: Int) {
            inverse = [Double](repeating: 0, count: d * d)
            next = [Double](repeating: 0, count: d * d)
            z = [Double](repeating: 0, count: d * d)
            block = [Double](repeating: 0, count: d * d)
            y = [Double](repeating: 0, count: d)
        }
    }

    /// The greedy path of one row (`inverse`: the group's dampened inverse Hessian, `d × d`).
    /// With `groups` (an N:M pattern), a stage only removes weights of groups that still hold
    /// more than `n`, so the path ends with exactly `n` per group.
    static func path(row: [Float], inverse full: [Double], schedule: [Int], scratch: inout PathScratch,
                     layer: String, groups: PatternGroups? = nil) throws -> RowPath
    {
        let d = row.count
        var path = RowPath()
        path.removedAt = [Int](repeating: Int.max, count: d)
        path.counts = [d]
        path.errors = [0]
        path.values = [row]
        var alive = Array(0..<d)           // original columns of the compact positions
        var w = row.map(Double.init)       // compact survivors' weights
        scratch.inverse.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: full, count: d * d) }
        var k = d
        var error = 0.0
        var quota = [Int](repeating: groups.map { $0.pattern.m - $0.pattern.n } ?? 0, count: groups?.groupsPerRow ?? 0)
        for (stage, count) in schedule.enumerated().dropFirst() {
            let r = k - count
            guard r > 0 else { continue }
            // The r least salient survivors (compact positions, ascending).
            var order = Array(0..<k)
            let inv = scratch.inverse
            order.sort { a, b in
                let sa = w[a] * w[a] / max(inv[a * k + a], 1e-300), sb = w[b] * w[b] / max(inv[b * k + b], 1e-300)
                return sa != sb ? sa < sb : a < b
            }
            var removed: [Int]
            if let groups {
                removed = []
                for p in order where removed.count < r {
                    let g = groups.group(ofColumn: alive[p])
                    if quota[g] > 0 { quota[g] -= 1; removed.append(p) }
                }
                precondition(removed.count == r, "the stage schedule asks for more removals than the pattern allows")
                removed.sort()
            } else {
                removed = order.prefix(r).sorted()
            }
            var isRemoved = [Bool](repeating: false, count: k)
            for p in removed { isRemoved[p] = true }
            let kept = (0..<k).filter { !isRemoved[$0] }
            let m = kept.count
            // U: Cholesky (upper, row-major) of H⁻¹_RR; Z = H⁻¹_{K',R} U⁻¹; y = U⁻ᵀ w_R.
            for (i, a) in removed.enumerated() { for (j, b) in removed.enumerated() { scratch.block[i * r + j] = inv[a * k + b] } }
            for (i, a) in kept.enumerated() { for (j, b) in removed.enumerated() { scratch.z[i * r + j] = inv[a * k + b] } }
            for (i, a) in removed.enumerated() { scratch.y[i] = w[a] }
            var info: Int32 = 0
            var jitter = 0.0
            for attempt in 0..<4 {
                if attempt > 0 {
                    // Rebuild the block with a little more diagonal (round-off after many updates).
                    jitter = jitter == 0 ? 1e-10 * (0..<r).reduce(0) { $0 + abs(inv[removed[$1] * k + removed[$1]]) } / Double(r) : jitter * 100
                    for (i, a) in removed.enumerated() { for (j, b) in removed.enumerated() { scratch.block[i * r + j] = inv[a * k + b] + (i == j ? jitter : 0) } }
                }
                var nr = Int32(r), lda = Int32(r)
                var uplo = CChar(UInt8(ascii: "L"))
                scratch.block.withUnsafeMutableBufferPointer { dpotrf_(&uplo, &nr, $0.baseAddress, &lda, &info) }
                if info == 0 { break }
            }
            guard info == 0 else {
                throw PruningError.numerical(layer: layer, reason: "the inverse Hessian lost positive definiteness (LAPACK info \(info))")
            }
            scratch.block.withUnsafeBufferPointer { u in
                scratch.z.withUnsafeMutableBufferPointer { z in
                    if m > 0 {
                        cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, Int32(m), Int32(r), 1,
                                    u.baseAddress, Int32(r), z.baseAddress, Int32(r))
                    }
                }
                scratch.y.withUnsafeMutableBufferPointer { y in
                    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasTrans, CblasNonUnit, Int32(r), u.baseAddress, Int32(r), y.baseAddress, 1)
                }
            }
            var increase = 0.0
            for i in 0..<r { increase += scratch.y[i] * scratch.y[i] }
            error += increase
            // Survivors: w_K' −= Z y; inverse: H⁻¹_K'K' − Z Zᵀ (compacted).
            var newW = kept.map { w[$0] }
            if m > 0 {
                scratch.z.withUnsafeBufferPointer { z in
                    scratch.y.withUnsafeBufferPointer { y in
                        newW.withUnsafeMutableBufferPointer { nw in
                            cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(r), -1, z.baseAddress, Int32(r),
                                        y.baseAddress, 1, 1, nw.baseAddress, 1)
                        }
                    }
                }
                for (i, a) in kept.enumerated() { for (j, b) in kept.enumerated() where j >= i { scratch.next[i * m + j] = inv[a * k + b] } }
                scratch.z.withUnsafeBufferPointer { z in
                    scratch.next.withUnsafeMutableBufferPointer { nx in
                        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(m), Int32(r), -1, z.baseAddress, Int32(r),
                                    1, nx.baseAddress, Int32(m))
                    }
                }
                for i in 0..<m { for j in 0..<i { scratch.next[i * m + j] = scratch.next[j * m + i] } }
                swap(&scratch.inverse, &scratch.next)
            }
            for p in removed { path.removedAt[alive[p]] = stage }
            alive = kept.map { alive[$0] }
            w = newW
            k = m
            path.counts.append(k)
            path.errors.append(error)
            path.values.append(w.map(Float.init))
        }
        return path
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
