import SPDYCore

/// The order in which a training run visits its samples: batches of indices, reshuffled every
/// epoch from the seed (SplitMix64, Fisher–Yates), the last partial batch dropped or kept.
///
/// An epoch's order depends only on (seed, epoch), so the whole state is (epoch, position):
/// a run resumed from a checkpoint sees exactly the batches it would have seen.
public struct BatchSampler: Sendable, Equatable, Codable {
    /// Samples in the data set.
    public let count: Int
    /// Samples per batch.
    public let batchSize: Int
    /// Whether each epoch visits the samples in a new random order (else in index order).
    public let shuffle: Bool
    /// Whether a last batch smaller than `batchSize` is skipped.
    public let dropLast: Bool
    /// The seed of the shuffles.
    public let seed: UInt64
    /// The current epoch (0-based).
    public private(set) var epoch = 0
    /// Batches already taken in the current epoch.
    public private(set) var position = 0

    public init(count: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64) {
        precondition(count >= 0 && batchSize > 0, "need a positive batch size")
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The sample order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        var indices = Array(0..<count)
        guard shuffle else { return indices }
        var rng = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15))
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                indices.swapAt(i, rng.nextIndex(below: i + 1))
            }
        }
        return indices
    }

    /// The batches of `epoch`, in order.
    public func batches(epoch: Int) -> [[Int]] {
        let order = order(epoch: epoch)
        return (0..<batchesPerEpoch).map { b in Array(order[(b * batchSize)..<min(count, (b + 1) * batchSize)]) }
    }

    /// The next batch, moving to the next epoch after the last one. Nil when an epoch has no
    /// batches at all (fewer samples than a batch with `dropLast`).
    public mutating func next() -> [Int]? {
        guard batchesPerEpoch > 0 else { return nil }
        if position >= batchesPerEpoch {
            epoch += 1
            position = 0
        }
        let order = order(epoch: epoch)
        let batch = Array(order[(position * batchSize)..<min(count, (position + 1) * batchSize)])
        position += 1
        return batch
    }

    /// Whether the current epoch's batches have all been taken.
    public var epochFinished: Bool { position >= batchesPerEpoch }
}
