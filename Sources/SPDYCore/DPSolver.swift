/// Algorithm 1: the exact minimum-cost level assignment of a ``SolverProblem`` under its
/// discretised time budget, by dynamic programming over time buckets.
///
/// `D[l][b]` = least total cost of searched layers `0…l` using exactly `b` buckets;
/// `D[l][b] = min_s D[l−1][b − τ_l^s] + e_l^s`. The answer is the least `D[L−1][b]` over
/// `b ≤ B` (ties: fewest buckets), recovered by back-tracking.
///
/// The solver is a reusable workspace: every DP row is preallocated once, so ``solve(costs:into:)``
/// allocates nothing in steady state. Instead of a back-pointer per layer × bucket, all rows are
/// kept and the choice is recomputed while back-tracking (L × n comparisons), which keeps the
/// inner loop a pure `min` over contiguous memory that the compiler vectorises. Each layer only
/// touches the bucket range reachable so far. Costs are `Double`: the DP is exact in the
/// arithmetic it uses and Double keeps ties and tiny coefficient differences meaningful; see
/// docs/solver.md for the Float measurement.
///
/// Not thread-safe: use one solver per thread.
public final class DPSolver {
    /// The problem being solved.
    public private(set) var problem: SolverProblem
    /// All DP rows, `L × (B + 1)`.
    private var rows: [Double]
    /// Per searched layer, the first and last bucket its row defines.
    private var low: [Int]
    private var high: [Int]

    /// The result of one solve.
    public struct Outcome: Hashable, Sendable {
        /// The minimal total cost.
        public var cost: Double
        /// The number of buckets the chosen levels use (≤ B).
        public var bucketsUsed: Int
    }

    /// Why a solve found nothing.
    public enum SolveError: Error, Hashable, Sendable, CustomStringConvertible {
        /// Every assignment within the budget has an infinite cost.
        case noFiniteCost

        /// A readable explanation.
        public var description: String { "no level assignment within the time budget has a finite cost" }
    }

    /// Creates a solver and allocates its workspace for `problem`.
    public init(problem: SolverProblem) {
        self.problem = problem
        rows = [Double](repeating: .infinity, count: problem.layerCount * (problem.buckets + 1))
        low = [Int](repeating: 0, count: problem.layerCount)
        high = [Int](repeating: 0, count: problem.layerCount)
    }

    /// Switches to another problem, reusing the workspace when it is large enough.
    public func reset(problem: SolverProblem) {
        self.problem = problem
        let needed = problem.layerCount * (problem.buckets + 1)
        if rows.count < needed { rows = [Double](repeating: .infinity, count: needed) }
        if low.count != problem.layerCount {
            low = [Int](repeating: 0, count: problem.layerCount)
            high = [Int](repeating: 0, count: problem.layerCount)
        }
    }

    /// Solves for `costs` (row-major, `L × n`, see ``SolverProblem``; `+∞` forbids a level) and
    /// writes the chosen level of every table layer into `levels` (excluded layers dense).
    /// Allocation-free when `levels` already has one entry per table layer.
    @discardableResult
    public func solve(costs: [Double], into levels: inout [SparsityLevel]) throws(SolveError) -> Outcome {
        let problem = self.problem
        let layerCount = problem.layerCount
        let n = problem.levelCount
        let buckets = problem.buckets
        let rowStride = buckets + 1
        precondition(costs.count == layerCount * n, "costs must be L × n")
        if levels.count != problem.table.layers.count {
            levels = [SparsityLevel](repeating: .dense, count: problem.table.layers.count)
        }
        let outcome: Outcome? = problem.ticks.withUnsafeBufferPointer { ticks in
            costs.withUnsafeBufferPointer { costs in
                rows.withUnsafeMutableBufferPointer { rows in
                    low.withUnsafeMutableBufferPointer { low in
                        high.withUnsafeMutableBufferPointer { high in
                            Self.forward(ticks: ticks, costs: costs, rows: rows, low: low, high: high,
                                         layerCount: layerCount, levelCount: n, buckets: buckets)
                            return Self.answer(rows: rows, low: low, high: high, layerCount: layerCount,
                                               rowStride: rowStride)
                        }
                    }
                }
            }
        }
        guard let outcome else { throw .noFiniteCost }
        // Back-track: find, layer by layer from the last, a level that reproduces D[l][b] exactly.
        var bucket = outcome.bucketsUsed
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let target = rows[l * rowStride + bucket]
            var chosen = -1
            for s in 0..<n {
                let tick = Int(problem.ticks[l * n + s])
                guard tick >= 0, tick <= bucket else { continue }
                let previous = bucket - tick
                let before: Double
                if l == 0 {
                    guard previous == 0 else { continue }
                    before = 0
                } else {
                    guard previous >= low[l - 1], previous <= high[l - 1] else { continue }
                    before = rows[(l - 1) * rowStride + previous]
                }
                if before + costs[l * n + s] == target {
                    chosen = s
                    break
                }
            }
            precondition(chosen >= 0, "back-tracking always finds the level that produced D[l][b]")
            levels[problem.budget.searchedLayers[l]] = SparsityLevel(chosen)
            bucket -= Int(problem.ticks[l * n + chosen])
        }
        for index in problem.budget.excludedLayers { levels[index] = .dense }
        return outcome
    }

    /// Solves for `costs` and returns the chosen levels with their predicted time and speedup.
    public func solve(costs: [Double]) throws(SolveError) -> DPSolution {
        var levels: [SparsityLevel] = []
        let outcome = try solve(costs: costs, into: &levels)
        guard let seconds = problem.predictedSeconds(levels: levels) else {
            preconditionFailure("the DP only picks available levels")
        }
        return DPSolution(levels: levels, cost: outcome.cost, bucketsUsed: outcome.bucketsUsed,
                          predictedSeconds: seconds, predictedSpeedup: problem.table.baseSeconds / seconds)
    }

    /// Fills every row: the hot loop.
    @inline(__always)
    private static func forward(ticks: UnsafeBufferPointer<Int32>, costs: UnsafeBufferPointer<Double>,
                                rows: UnsafeMutableBufferPointer<Double>, low: UnsafeMutableBufferPointer<Int>,
                                high: UnsafeMutableBufferPointer<Int>, layerCount: Int, levelCount n: Int,
                                buckets: Int)
    {
        guard let base = rows.baseAddress else { return }
        let rowStride = buckets + 1
        var previousLow = 0
        var previousHigh = 0
        for l in 0..<layerCount {
            var minTick = Int.max
            var maxTick = -1
            for s in 0..<n {
                let tick = Int(ticks[l * n + s])
                if tick >= 0 { minTick = min(minTick, tick); maxTick = max(maxTick, tick) }
            }
            let rowLow = previousLow + minTick
            let rowHigh = min(buckets, previousHigh + maxTick)
            let row = base + l * rowStride
            low[l] = rowLow
            high[l] = rowHigh
            guard rowLow <= rowHigh else { previousLow = rowLow; previousHigh = rowHigh; continue }
            (row + rowLow).update(repeating: .infinity, count: rowHigh - rowLow + 1)
            for s in 0..<n {
                let tick = Int(ticks[l * n + s])
                let cost = costs[l * n + s]
                guard tick >= 0, cost < .infinity else { continue }
                if l == 0 {
                    if cost < row[tick] { row[tick] = cost }
                    continue
                }
                let start = previousLow + tick
                let end = min(previousHigh + tick, buckets)
                guard start <= end else { continue }
                let previous = base + (l - 1) * rowStride
                relax(destination: row + start, source: previous + (start - tick), count: end - start + 1, cost: cost)
            }
            previousLow = rowLow
            previousHigh = rowHigh
        }
    }

    /// `destination[i] = min(destination[i], source[i] + cost)`: the vectorised kernel.
    @inline(__always)
    private static func relax(destination: UnsafeMutablePointer<Double>, source: UnsafePointer<Double>,
                              count: Int, cost: Double)
    {
        for i in 0..<count {
            let candidate = source[i] + cost
            let current = destination[i]
            destination[i] = candidate < current ? candidate : current
        }
    }

    /// The least cost in the last row and the fewest buckets that attain it.
    private static func answer(rows: UnsafeMutableBufferPointer<Double>, low: UnsafeMutableBufferPointer<Int>,
                               high: UnsafeMutableBufferPointer<Int>, layerCount: Int, rowStride: Int) -> Outcome?
    {
        let l = layerCount - 1
        guard low[l] <= high[l] else { return nil }
        var best = Double.infinity
        var bestBucket = -1
        for b in low[l]...high[l] where rows[l * rowStride + b] < best {
            best = rows[l * rowStride + b]
            bestBucket = b
        }
        return bestBucket >= 0 ? Outcome(cost: best, bucketsUsed: bestBucket) : nil
    }
}
