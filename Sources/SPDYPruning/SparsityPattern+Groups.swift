import SPDYCore
import SPDYGraph

/// How a layer's reduction dimension splits into the groups of an N:M pattern.
///
/// A matrix row (``WeightLayout``) reads `channels × positions` inputs in column order
/// `column = channel · positions + position`: for a Conv (OIHW) `channels` are the input
/// channels of its group and `positions` the `kh · kw` kernel positions; for a Linear layer
/// `channels` are its inputs and `positions` is 1. Groups run along the channels at a fixed kernel
/// position (NVIDIA ASP's and SparseML's choice for convolutions: the channel axis is the one an
/// NHWC implicit GEMM reduces over contiguously): group `g` of a row holds channels
/// `(g / positions)·m ..< (g / positions + 1)·m` at position `g % positions`.
public struct PatternGroups: Sendable, Hashable {
    /// The pattern.
    public var pattern: SparsityPattern
    /// Input channels per row (a multiple of `pattern.m`).
    public var channels: Int
    /// Kernel positions per channel (1 for Linear layers).
    public var positions: Int

    /// Columns of a row.
    public var columns: Int { channels * positions }
    /// Groups per row.
    public var groupsPerRow: Int { channels / pattern.m * positions }

    /// The groups of `layer`, whose matrix layout is `layout`; throws when its channel count is
    /// not a multiple of `m` (such a layer stays dense).
    public init(pattern: SparsityPattern, layer: PrunableLayer, layout: WeightLayout) throws {
        let positions = layer.opType == "Conv" ? layer.weightShape.dropFirst(2).reduce(1, *) : 1
        let channels = layout.columns / max(positions, 1)
        guard positions >= 1, channels * positions == layout.columns, channels % pattern.m == 0 else {
            throw PruningError.unsupportedLayer(
                layer: layer.id, reason: "\(channels) input channel(s) per output \(positions > 1 ? "and kernel position " : "")is not a multiple of \(pattern.m), so no \(pattern) pattern fits; it stays dense")
        }
        self.pattern = pattern
        self.channels = channels
        self.positions = positions
    }

    /// The group (0..<``groupsPerRow``) of column `column`.
    @inlinable
    public func group(ofColumn column: Int) -> Int {
        (column / positions / pattern.m) * positions + column % positions
    }

    /// The columns of group `group`, ascending.
    public func columns(ofGroup group: Int) -> [Int] {
        let first = (group / positions) * pattern.m, position = group % positions
        return (0..<pattern.m).map { (first + $0) * positions + position }
    }

    /// The N:M mask of largest magnitudes (matrix order, `true` = kept): in every group of every
    /// row, the `n` weights of largest `|w|` (ties to the lower column).
    public func magnitudeMask(weights: [Float], rows: Int) -> [Bool] {
        precondition(weights.count == rows * columns, "weights do not match the groups")
        var mask = [Bool](repeating: false, count: weights.count)
        for r in 0..<rows {
            for g in 0..<groupsPerRow {
                let members = columns(ofGroup: g).map { r * columns + $0 }
                let kept = members.sorted { (-abs(weights[$0]), $0) < (-abs(weights[$1]), $1) }.prefix(pattern.n)
                for i in kept { mask[i] = true }
            }
        }
        return mask
    }

    /// Whether `mask` (matrix order) keeps exactly `n` of every group.
    public func satisfies(mask: [Bool], rows: Int) -> Bool {
        guard mask.count == rows * columns else { return false }
        for r in 0..<rows {
            for g in 0..<groupsPerRow where columns(ofGroup: g).filter({ mask[r * columns + $0] }).count != pattern.n { return false }
        }
        return true
    }
}
