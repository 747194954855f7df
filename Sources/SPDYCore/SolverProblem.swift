import Foundation

/// Algorithm 1's discretised problem for one table, target and set of excluded layers: every
/// searched layer's time at every level rounded **up** to whole buckets of `Δ = T / buckets`.
///
/// Rounding up makes every profile the DP can return fit the budget on the exact timing model
/// (the reference rounded to nearest, which can overshoot by up to L/2 buckets).
/// Costs are passed to the solver as a flat row-major matrix: `costs[l · levelCount + s]` is the
/// cost of searched layer `l` (``searchedLayers`` order) at level `s`.
public struct SolverProblem: Sendable {
    /// The table the problem was built from.
    public let table: TimingTable
    /// The budget of the searched layers.
    public let budget: TimeBudget
    /// The number of time buckets B.
    public let buckets: Int
    /// The bucket width Δ in seconds.
    public let bucketSeconds: Double
    /// The number of grid levels n.
    public let levelCount: Int
    /// `ticks[l · n + s]`: the time of searched layer `l` at level `s` in buckets (rounded up),
    /// or −1 when the level is unavailable or alone exceeds the budget.
    public let ticks: [Int32]
    /// Per searched layer, the smallest bucket count over its usable levels.
    public let minimumTicks: [Int32]
    /// Per searched layer, the largest bucket count over its usable levels.
    public let maximumTicks: [Int32]

    /// The default number of buckets (Algorithm 1).
    public static let defaultBuckets = 10_000

    /// Builds the discretised problem; throws if the target is infeasible before or after rounding.
    public init(table: TimingTable, speedup: Double, excluding excluded: Set<LayerID> = [],
                buckets: Int = SolverProblem.defaultBuckets) throws(BudgetError)
    {
        precondition(buckets >= 1 && buckets <= Int(Int32.max) / 2, "bucket count out of range")
        precondition(table.grid.count <= 255, "at most 255 levels")
        let budget = try TimeBudget(table: table, speedup: speedup, excluding: excluded)
        self.table = table
        self.budget = budget
        self.buckets = buckets
        levelCount = table.grid.count
        // A zero budget can only be met by zero times, which validation excludes; the budget
        // check above already threw unless minimum > 0 fits, so T > 0 here.
        bucketSeconds = budget.searchedSeconds / Double(buckets)
        var ticks = [Int32](repeating: -1, count: budget.searchedLayers.count * levelCount)
        var minimum = [Int32](repeating: Int32.max, count: budget.searchedLayers.count)
        var maximum = [Int32](repeating: -1, count: budget.searchedLayers.count)
        for (row, layerIndex) in budget.searchedLayers.enumerated() {
            for (s, timing) in table.layers[layerIndex].levels.enumerated() {
                guard let seconds = timing?.seconds else { continue }
                let exact = (seconds / bucketSeconds).rounded(.up)
                guard exact <= Double(buckets) else { continue }
                let tick = Int32(exact)
                ticks[row * levelCount + s] = tick
                minimum[row] = min(minimum[row], tick)
                maximum[row] = max(maximum[row], tick)
            }
        }
        let total = minimum.reduce(0) { $0 + Int($1 == Int32.max ? Int32(buckets + 1) : $1) }
        guard total <= buckets else {
            throw .infeasibleAfterRounding(target: speedup, maximumSpeedup: budget.maximumSpeedup, buckets: buckets)
        }
        self.ticks = ticks
        minimumTicks = minimum
        maximumTicks = maximum
    }

    /// The problem with the fewest buckets (starting at `buckets`, ×10 per step, at most
    /// `maximumBuckets`) whose rounding still certifies the target: near the timing model's
    /// maximum speedup, rounding every time up by < 1 bucket can leave no certified profile at
    /// 10 000 buckets although one exists; finer buckets shrink that band L/B-fold.
    public static func refining(table: TimingTable, speedup: Double, excluding excluded: Set<LayerID> = [],
                                buckets: Int = SolverProblem.defaultBuckets,
                                maximumBuckets: Int = 200_000) throws(BudgetError) -> SolverProblem {
        var current = buckets
        while true {
            do {
                return try SolverProblem(table: table, speedup: speedup, excluding: excluded, buckets: current)
            } catch {
                guard case .infeasibleAfterRounding = error, current < maximumBuckets else { throw error }
                current = min(current * 10, maximumBuckets)
            }
        }
    }

    /// The number of searched layers L.
    public var layerCount: Int { budget.searchedLayers.count }

    /// The searched layers' identifiers, in cost-matrix order.
    public var searchedLayerIDs: [LayerID] { budget.searchedLayers.map { table.layers[$0].layer } }

    /// Whether level `s` of searched layer `l` can be chosen.
    public func isUsable(layer l: Int, level s: Int) -> Bool { ticks[l * levelCount + s] >= 0 }

    /// SPDY's cost model: `e_l^s = c_l · (s / (n − 1))²`, written into `costs` (resized if needed).
    public func fillCosts(coefficients: [Double], into costs: inout [Double]) {
        precondition(coefficients.count == layerCount, "one coefficient per searched layer")
        if costs.count != layerCount * levelCount {
            costs = [Double](repeating: 0, count: layerCount * levelCount)
        }
        let scale = 1 / Double(max(levelCount - 1, 1))
        for l in 0..<layerCount {
            for s in 0..<levelCount {
                let x = Double(s) * scale
                costs[l * levelCount + s] = coefficients[l] * x * x
            }
        }
    }

    /// The cost matrix of SPDY's cost model for `coefficients` (see ``fillCosts(coefficients:into:)``).
    public func costs(coefficients: [Double]) -> [Double] {
        var costs: [Double] = []
        fillCosts(coefficients: coefficients, into: &costs)
        return costs
    }

    /// The exact (not discretised) predicted time of a full-table level assignment.
    public func predictedSeconds(levels: [SparsityLevel]) -> Double? { table.predictedSeconds(levels: levels) }

    /// The exact predicted speedup of a full-table level assignment.
    public func predictedSpeedup(levels: [SparsityLevel]) -> Double? { table.predictedSpeedup(levels: levels) }
}
