import CBLAS
import Foundation
import SPDYCore

/// The reference's layer-wise reconstruction (AdaPrune, as in IST-DASLab/spdy): levels in
/// ascending order, each starting from the previous level's weights; the mask keeps the largest
/// magnitudes of the whole layer among the previous level's survivors (nested masks); then Adam
/// on the surviving weights minimising the layer's output MSE against the dense layer, batch by
/// batch, for a number of epochs, with the mask reapplied after each step. The bias is not
/// optimised.
///
/// It works on the per-batch input Hessians captured with the calibration batches (the
/// minibatch MSE gradient is `2 (W' − W) H_b / (rows · vectors_b)`): the batches are those of
/// the capture, visited in a seeded random order each epoch.
public struct AdaPruneReconstructor: Sendable {
    /// Adam's learning rate (reference: 1e-3).
    public var learningRate: Float
    /// Passes over the calibration batches per level (reference: 10).
    public var epochs: Int
    /// The seed of the batch order.
    public var seed: UInt64

    /// Creates a reconstructor with the reference's defaults.
    public init(learningRate: Float = 1e-3, epochs: Int = 10, seed: UInt64 = 0) {
        self.learningRate = learningRate
        self.epochs = epochs
        self.seed = seed
    }

    /// Every level of `grid`; `hessian` must have been captured with per-batch matrices.
    public func reconstruct(weights: [Float], hessian: LayerHessian, grid: SparsityGrid,
                            progress: (Int) -> Void = { _ in }) throws -> LayerLevels
    {
        let layout = hessian.layout
        let n = layout.count
        try Self.requireBatches(hessian)
        var generator = SplitMix64(seed: seed)
        var current = weights
        var kept = [Bool](repeating: true, count: n)
        var removal = [UInt8](repeating: UInt8(grid.count), count: n)
        var values: [[Float]] = [weights]
        var errors: [Double] = [0]
        var survivors = n
        for level in 1..<grid.count {
            let goal = min(survivors, grid.survivors(level: level, of: n))
            if goal < survivors {
                let order = (0..<n).filter { kept[$0] }.sorted { (abs(current[$0]), $0) < (abs(current[$1]), $1) }
                for i in order.prefix(survivors - goal) {
                    kept[i] = false
                    removal[i] = UInt8(level)
                    current[i] = 0
                }
                survivors = goal
            }
            optimise(&current, kept: kept, dense: weights, hessian: hessian, generator: &generator)
            var levelValues: [Float] = []
            levelValues.reserveCapacity(survivors)
            for i in 0..<n where kept[i] { levelValues.append(current[i]) }
            values.append(levelValues)
            errors.append(ReconstructionError.normalised(candidate: current, dense: weights, layout: layout,
                                                         hessians: hessian.matrices))
            progress(level)
        }
        return LayerLevels(layout: layout, removal: removal, values: values, errors: errors)
    }

    /// The N:M level of a layer: the magnitude mask of `groups` (largest `n` of every `m`), then
    /// Adam on the survivors as for a grid level. Two levels on `groups.pattern.grid`: dense and
    /// the pattern.
    public func reconstruct(weights: [Float], hessian: LayerHessian, groups: PatternGroups) throws -> LayerLevels {
        let layout = hessian.layout
        try Self.requireBatches(hessian)
        var generator = SplitMix64(seed: seed)
        let kept = groups.magnitudeMask(weights: weights, rows: layout.rows)
        var current = zip(weights, kept).map { $1 ? $0 : 0 }
        optimise(&current, kept: kept, dense: weights, hessian: hessian, generator: &generator)
        let survivors = zip(current, kept).filter(\.1).map(\.0)
        let error = ReconstructionError.normalised(candidate: current, dense: weights, layout: layout, hessians: hessian.matrices)
        return LayerLevels(layout: layout, removal: kept.map { $0 ? 2 : 1 }, values: [weights, survivors], errors: [0, error])
    }

    static func requireBatches(_ hessian: LayerHessian) throws {
        guard !hessian.batchMatrices.isEmpty else {
            throw PruningError.numerical(layer: hessian.layer.id, reason: "AdaPrune needs per-batch input statistics (capture with keepBatches)")
        }
    }

    /// Adam on the `kept` weights of `current` (the others stay zero), minimising the layer's
    /// output MSE against `dense` batch by batch for ``epochs`` passes.
    func optimise(_ current: inout [Float], kept: [Bool], dense weights: [Float], hessian: LayerHessian,
                  generator: inout SplitMix64) {
        let layout = hessian.layout
        let d = layout.columns, n = layout.count, rowsPerGroup = layout.rowsPerGroup
        var delta = [Float](repeating: 0, count: n), gradient = [Float](repeating: 0, count: n)
        let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
        var m = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n)
        var step = 0
        for _ in 0..<epochs {
            var batches = Array(hessian.batchMatrices.indices)
            for i in stride(from: batches.count - 1, to: 0, by: -1) {
                batches.swapAt(i, generator.nextIndex(below: i + 1))
            }
            for b in batches {
                for i in 0..<n { delta[i] = current[i] - weights[i] }
                let scale = 2 / Float(layout.rows * max(1, hessian.batchVectorCounts[b]))
                for group in 0..<layout.groups {
                    let offset = group * rowsPerGroup * d
                    delta.withUnsafeBufferPointer { dp in
                        gradient.withUnsafeMutableBufferPointer { gp in
                            hessian.batchMatrices[b][group].withUnsafeBufferPointer { hp in
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rowsPerGroup), Int32(d), Int32(d),
                                            scale, dp.baseAddress! + offset, Int32(d), hp.baseAddress, Int32(d),
                                            0, gp.baseAddress! + offset, Int32(d))
                            }
                        }
                    }
                }
                step += 1
                let correction1 = 1 - Foundation.pow(beta1, Float(step)), correction2 = 1 - Foundation.pow(beta2, Float(step))
                for i in 0..<n where kept[i] {
                    let g = gradient[i]
                    m[i] = beta1 * m[i] + (1 - beta1) * g
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g
                    current[i] -= learningRate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
                }
            }
        }
    }
}
