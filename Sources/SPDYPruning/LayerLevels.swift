import CBLAS
import SPDYCore

/// Every level of one layer's reconstruction: nested masks and the weights of each level.
///
/// Masks are nested (a weight pruned at level `i` stays pruned above it), so one byte per weight
/// describes all of them: ``removal`` holds the first level at which the weight is zero
/// (`levelCount` when it survives every level). Level `i`'s values list its surviving weights in
/// row-major matrix order.
public struct LayerLevels: Sendable {
    /// The weight's matrix layout.
    public var layout: WeightLayout
    /// Per weight (matrix order): the first level at which it is pruned; `levelCount` if never.
    public var removal: [UInt8]
    /// Per level: the surviving weights' values, row-major over the matrix.
    public var values: [[Float]]
    /// Per level: `‖(W' − W) X‖² / ‖W X‖²` on the calibration inputs.
    public var errors: [Double]

    /// The number of levels.
    public var levelCount: Int { values.count }

    /// Creates levels; checks that masks and value counts agree.
    public init(layout: WeightLayout, removal: [UInt8], values: [[Float]], errors: [Double]) {
        precondition(removal.count == layout.count && errors.count == values.count, "inconsistent layer levels")
        self.layout = layout
        self.removal = removal
        self.values = values
        self.errors = errors
    }

    /// The surviving-weight count of level `level`.
    public func survivorCount(level: Int) -> Int { removal.reduce(0) { $0 + (Int($1) > level ? 1 : 0) } }

    /// The full weight matrix (row-major, zeros where pruned) of level `level`.
    public func matrix(level: Int) -> [Float] { Self.expand(removal: removal, survivors: values[level], level: level) }

    /// The dense elements of a level: `survivors` at the positions whose removal level is above
    /// `level`, zeros elsewhere (the same order for `removal` and the result).
    static func expand(removal: [UInt8], survivors: [Float], level: Int) -> [Float] {
        var result = [Float](repeating: 0, count: removal.count)
        var next = 0
        for i in 0..<removal.count where Int(removal[i]) > level {
            result[i] = survivors[next]
            next += 1
        }
        return result
    }

    /// The weight tensor's elements (its own layout) at `level`.
    public func tensorValues(level: Int) -> [Float] { layout.tensorOrder(fromMatrix: matrix(level: level)) }
}

/// The layer-wise reconstruction error of candidate weights.
enum ReconstructionError {
    /// `Σ_rows (w' − w)ᵀ H_group (w' − w)` and `Σ_rows wᵀ H_group w`, in Double (BLAS).
    static func squaredErrors(candidate: [Float], dense: [Float], layout: WeightLayout, hessians: [[Double]]) -> (error: Double, norm: Double) {
        let d = layout.columns, rows = layout.rowsPerGroup
        var error = 0.0, norm = 0.0
        var delta = [Double](repeating: 0, count: rows * d), w = [Double](repeating: 0, count: rows * d)
        var product = [Double](repeating: 0, count: rows * d)
        for group in 0..<layout.groups {
            let offset = group * rows * d
            for i in 0..<(rows * d) {
                w[i] = Double(dense[offset + i])
                delta[i] = Double(candidate[offset + i]) - w[i]
            }
            for (matrix, target) in [(delta, 0), (w, 1)] {
                matrix.withUnsafeBufferPointer { x in
                    hessians[group].withUnsafeBufferPointer { h in
                        product.withUnsafeMutableBufferPointer { p in
                            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(d), 1,
                                        x.baseAddress, Int32(d), h.baseAddress, Int32(d), 0, p.baseAddress, Int32(d))
                        }
                    }
                }
                var total = 0.0
                for i in 0..<(rows * d) { total += product[i] * matrix[i] }
                if target == 0 { error += total } else { norm += total }
            }
        }
        return (error, norm)
    }

    /// `xᵀ H x` for a row-major symmetric `d × d` matrix.
    static func quadratic(_ h: [Double], _ x: [Double], _ d: Int) -> Double {
        var total = 0.0
        h.withUnsafeBufferPointer { hp in
            for i in 0..<d where x[i] != 0 {
                var row = 0.0
                let base = hp.baseAddress! + i * d
                for j in 0..<d { row += base[j] * x[j] }
                total += x[i] * row
            }
        }
        return total
    }

    /// The normalised error `error / norm` (0 when the dense output is zero).
    static func normalised(candidate: [Float], dense: [Float], layout: WeightLayout, hessians: [[Double]]) -> Double {
        let (error, norm) = squaredErrors(candidate: candidate, dense: dense, layout: layout, hessians: hessians)
        return norm > 0 ? error / norm : (error > 0 ? .infinity : 0)
    }
}

extension SparsityGrid {
    /// The number of surviving weights of `count` at level `level`.
    public func survivors(level: Int, of count: Int) -> Int {
        Int(((1 - sparsities[level]) * Double(count)).rounded())
    }
}
