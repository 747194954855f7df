/// A layer's weights ordered by magnitude, for magnitude pruning to any sparsity without sorting
/// again: pruning to sparsity `s` zeroes the first `round(s · count)` indices of the order.
public struct MagnitudeOrder: Sendable {
    /// The dense weights.
    public let weights: [Float]
    /// Element indices, smallest magnitude first (ties by index).
    public let order: [Int32]

    /// Orders `weights`.
    public init(weights: [Float]) {
        self.weights = weights
        order = (0..<Int32(weights.count)).sorted { (abs(weights[Int($0)]), $0) < (abs(weights[Int($1)]), $1) }
    }

    /// The weights with the smallest `round(sparsity · count)` magnitudes set to zero.
    public func pruned(to sparsity: Double) -> [Float] {
        var result = weights
        let zeros = Int((sparsity * Double(weights.count)).rounded())
        for i in order.prefix(zeros) { result[Int(i)] = 0 }
        return result
    }
}
