import Foundation
import Testing
@testable import SPDYCore

/// Counts oracle calls and checks that no profile is evaluated twice.
final class CountingOracle: LossOracle {
    let weights: [LayerID: Double]
    let grid: SparsityGrid
    var calls = 0
    var seen: Set<[SparsityLevel]> = []
    var failAtCall: Int?
    struct Failure: Error {}

    /// Loss = Σ_l w_l · (i_l / (n−1))²: the SPDY cost model with hidden true coefficients.
    init(weights: [LayerID: Double], grid: SparsityGrid) {
        self.weights = weights
        self.grid = grid
    }

    func loss(of profile: Profile) throws -> Double {
        calls += 1
        if calls == failAtCall { throw Failure() }
        let levels = profile.layers.map(\.level)
        precondition(seen.insert(levels).inserted, "memoisation failed: profile evaluated twice")
        let scale = 1 / Double(grid.count - 1)
        return profile.layers.reduce(0) { sum, entry in
            let x = Double(entry.level.index) * scale
            return sum + (weights[entry.layer] ?? 0) * x * x
        }
    }
}

@Suite struct SensitivitySearchTests {
    /// A small synthetic table where the optimum can be enumerated.
    static func smallProblem() throws -> SolverProblem {
        var generator = SplitMix64(seed: 11)
        let grid = try SparsityGrid(minimum: 0.5, maximum: 0.95, steps: 4)
        let layers = (0..<7).map { l in
            LayerTiming(layer: LayerID("layer\(l)"),
                        seconds: (0..<grid.count).map { s in s == 0 ? 1 + generator.nextUnitDouble()
                            : (1.0 - 0.17 * Double(s)) * (0.5 + 1.5 * generator.nextUnitDouble()) })
        }
        let dense = layers.reduce(0) { $0 + $1.denseSeconds }
        let table = try TimingTable(engine: "synthetic", grid: grid, baseSeconds: dense + 0.3, overheadSeconds: 0.3,
                                    layers: layers)
        return try SolverProblem(table: table, speedup: 1.8, buckets: 1_000)
    }

    static func weights(for problem: SolverProblem, seed: UInt64) -> [LayerID: Double] {
        var generator = SplitMix64(seed: seed)
        return Dictionary(uniqueKeysWithValues: problem.searchedLayerIDs.map { ($0, 0.2 + 0.8 * generator.nextUnitDouble()) })
    }

    /// Hidden sensitivities in [0.2, 1] (well conditioned; see docs/solver.md for what happens when
    /// they span orders of magnitude), several oracles and several search seeds.
    @Test(arguments: [(UInt64(5), UInt64(1)), (6, 2), (8, 3), (9, 4), (5, 5), (6, 6)])
    func findsTheKnownOptimumOfASmallProblem(weightSeed: UInt64, searchSeed: UInt64) throws {
        let problem = try Self.smallProblem()
        let weights = Self.weights(for: problem, seed: weightSeed)
        // The optimum over every profile within the discretised budget, by enumeration.
        let trueCosts = problem.costs(coefficients: problem.searchedLayerIDs.map { weights[$0]! })
        let optimum = try #require(bruteForce(problem, costs: trueCosts))
        let oracle = CountingOracle(weights: weights, grid: problem.table.grid)
        let search = SensitivitySearch(problem: problem, configuration: .init(seed: searchSeed))
        let outcome = try search.run(oracle: oracle)
        let best = try #require(outcome.best)
        #expect(outcome.isFinished)
        #expect(abs(try #require(best.loss) - optimum.cost) <= 1e-12)
        #expect(best.layers.map(\.level.index) == optimum.levels)
        #expect(try #require(best.predictedSpeedup) >= 1.8)
        let stats = outcome.state.statistics
        #expect(stats.candidates == stats.oracleEvaluations + stats.memoHits)
        #expect(stats.oracleEvaluations == oracle.calls)
        #expect(stats.memoHits > 0)
        // The reference's minimum: 100 random + 100 failures for each k from round(0.1·L) = 1.
        #expect(stats.candidates >= 100 + 100 * search.firstK)
        print("small problem: \(stats.candidates) candidates, \(stats.oracleEvaluations) oracle calls, "
              + "\(stats.memoHits) memo hits, \(stats.improvements) improvements")
    }

    @Test func findsTheKnownOptimumOnResNet18() throws {
        let table = try Fixtures.table("rn18_unstr.txt")
        let problem = try SolverProblem(table: table, speedup: 2.5, excluding: Fixtures.excludedLayers(of: table),
                                        buckets: 2_000)
        let weights = Self.weights(for: problem, seed: 9)
        // With the oracle equal to the cost model for hidden coefficients w, the DP with c = w is
        // optimal among every profile the search can produce.
        let optimal = try DPSolver(problem: problem)
            .solve(costs: problem.costs(coefficients: problem.searchedLayerIDs.map { weights[$0]! }))
        let oracle = CountingOracle(weights: weights, grid: table.grid)
        let outcome = try SensitivitySearch(problem: problem, configuration: .init(seed: 3)).run(oracle: oracle)
        let best = try #require(outcome.best)
        let loss = try #require(best.loss)
        let stats = outcome.state.statistics
        print("rn18 at 2.5×: best loss \(loss), optimum \(optimal.cost), \(stats.candidates) candidates, "
              + "\(stats.oracleEvaluations) oracle calls, \(stats.memoHits) memo hits")
        #expect(loss >= optimal.cost - 1e-12)
        // Algorithm 4 is a heuristic: with the reference schedule (~420 oracle calls for 19 layers)
        // it gets within 0.5% of the optimum here, not exactly to it (docs/solver.md).
        #expect(loss <= optimal.cost * 1.01)
    }

    @Test func sameSeedSameResultAndProgressWalksKDown() throws {
        let problem = try Self.smallProblem()
        let weights = Self.weights(for: problem, seed: 6)
        let configuration = SensitivitySearch.Configuration(seed: 77, initialCandidates: 30, patience: 20, initialK: 3)
        var ks: [Int] = []
        let first = try SensitivitySearch(problem: problem, configuration: configuration)
            .run(oracle: CountingOracle(weights: weights, grid: problem.table.grid)) { progress in
                if case let .local(k, _) = progress.phase, ks.last != k { ks.append(k) }
            }
        let second = try SensitivitySearch(problem: problem, configuration: configuration)
            .run(oracle: CountingOracle(weights: weights, grid: problem.table.grid))
        #expect(first.state == second.state)
        #expect(first.best == second.best)
        #expect(ks == [3, 2, 1])
        let other = try SensitivitySearch(problem: problem, configuration: .init(seed: 78, initialCandidates: 30,
                                                                                 patience: 20, initialK: 3))
            .run(oracle: CountingOracle(weights: weights, grid: problem.table.grid))
        #expect(other.state.memo != first.state.memo)
    }

    @Test func resumedSearchEqualsUninterruptedSearch() throws {
        let table = try Fixtures.table("rn18_unstr.txt")
        let problem = try SolverProblem(table: table, speedup: 2, excluding: Fixtures.excludedLayers(of: table),
                                        buckets: 2_000)
        let weights = Self.weights(for: problem, seed: 4)
        let configuration = SensitivitySearch.Configuration(seed: 2022, initialCandidates: 40, patience: 30)
        let search = SensitivitySearch(problem: problem, configuration: configuration)
        let uninterrupted = try search.run(oracle: CountingOracle(weights: weights, grid: table.grid))
        // Stop every 23 oracle calls, save to JSON, reload, resume with a fresh oracle.
        var state: SearchState?
        var pieces = 0
        repeat {
            let outcome = try search.run(oracle: CountingOracle(weights: weights, grid: table.grid), resuming: state,
                                         evaluationLimit: 23)
            state = try SearchState.decodeJSON(outcome.state.encodeJSON())
            pieces += 1
        } while state?.isFinished == false
        #expect(pieces > 3)
        #expect(state == uninterrupted.state)
        // An oracle failure leaves a state that resumes to the same result as well.
        let failing = CountingOracle(weights: weights, grid: table.grid)
        failing.failAtCall = 50
        do {
            _ = try search.run(oracle: failing)
            Issue.record("expected the oracle failure to stop the search")
        } catch {
            guard case let .oracleFailed(_, saved) = error else { Issue.record("\(error)"); return }
            #expect(saved.statistics.oracleEvaluations == 49)
            let resumed = try search.run(oracle: CountingOracle(weights: weights, grid: table.grid), resuming: saved)
            #expect(resumed.state == uninterrupted.state)
        }
        // A state from another problem is refused.
        let otherProblem = try SolverProblem(table: table, speedup: 2.2, excluding: Fixtures.excludedLayers(of: table),
                                             buckets: 2_000)
        #expect(throws: SearchError.self) {
            try SensitivitySearch(problem: otherProblem, configuration: configuration)
                .run(oracle: CountingOracle(weights: weights, grid: table.grid), resuming: uninterrupted.state)
        }
    }

    @Test func evaluationBudgetCapsOracleCalls() throws {
        let problem = try Self.smallProblem()
        let oracle = CountingOracle(weights: Self.weights(for: problem, seed: 8), grid: problem.table.grid)
        let outcome = try SensitivitySearch(problem: problem, configuration: .init(seed: 1, evaluationBudget: 25))
            .run(oracle: oracle)
        #expect(oracle.calls == 25)
        #expect(outcome.isFinished)
        #expect(outcome.best != nil)
    }
}
