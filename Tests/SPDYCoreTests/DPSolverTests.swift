import Foundation
import Testing
@testable import SPDYCore

/// A small random instance: table, exclusions, target, buckets and costs.
struct RandomInstance {
    var table: TimingTable
    var excluded: Set<LayerID>
    var speedup: Double
    var buckets: Int
    var costs: [Double]

    init(generator: inout SplitMix64) {
        let layerCount = 1 + generator.nextIndex(below: 5)
        let steps = generator.nextIndex(below: 4)
        let grid = steps == 0 ? try! SparsityGrid(minimum: 0.5, maximum: 0.5, steps: 0)
            : try! SparsityGrid(minimum: 0.3, maximum: 0.95, steps: steps)
        var layers: [LayerTiming] = []
        for l in 0..<layerCount {
            var levels: [LevelTiming?] = []
            for s in 0..<grid.count {
                // Sometimes unavailable (never dense), sometimes integer times to provoke ties.
                if s > 0, generator.nextIndex(below: 6) == 0 { levels.append(nil); continue }
                let seconds = generator.nextIndex(below: 3) == 0 ? Double(1 + generator.nextIndex(below: 4)) / 4
                    : 0.01 + generator.nextUnitDouble()
                levels.append(LevelTiming(seconds: seconds))
            }
            layers.append(LayerTiming(layer: LayerID("l\(l)"), levels: levels))
        }
        let overhead = generator.nextUnitDouble() * 0.5
        let base = overhead + layers.reduce(0) { $0 + $1.denseSeconds }
        table = try! TimingTable(engine: "synthetic", grid: grid, baseSeconds: base, overheadSeconds: overhead,
                                 layers: layers)
        excluded = []
        for layer in layers where generator.nextIndex(below: 8) == 0 { excluded.insert(layer.layer) }
        speedup = 0.9 + generator.nextUnitDouble() * 1.1
        buckets = [1, 2, 3, 7, 20, 50, 200][generator.nextIndex(below: 7)]
        let searched = layers.count - excluded.count
        costs = (0..<(max(searched, 0) * grid.count)).map { _ in
            generator.nextIndex(below: 3) == 0 ? Double(generator.nextIndex(below: 3)) : generator.nextUnitDouble()
        }
    }
}

/// Exhaustive optimum of the discretised problem: (cost, ticks) or nil if nothing fits.
func bruteForce(_ problem: SolverProblem, costs: [Double]) -> (cost: Double, levels: [Int])? {
    let n = problem.levelCount
    var best: (cost: Double, levels: [Int])?
    var choice = [Int](repeating: 0, count: problem.layerCount)
    func visit(_ l: Int, _ ticks: Int, _ cost: Double) {
        if l == problem.layerCount {
            if ticks <= problem.buckets, cost < (best?.cost ?? .infinity) { best = (cost, choice) }
            return
        }
        for s in 0..<n where problem.ticks[l * n + s] >= 0 {
            choice[l] = s
            visit(l + 1, ticks + Int(problem.ticks[l * n + s]), cost + costs[l * n + s])
        }
    }
    visit(0, 0, 0)
    return best
}

@Suite struct DPSolverTests {
    @Test func dpEqualsBruteForceOnThousandsOfRandomInstances() throws {
        var generator = SplitMix64(seed: 2022)
        var solved = 0, infeasible = 0, infeasibleAfterRounding = 0, nothingToPrune = 0
        for _ in 0..<6000 {
            let instance = RandomInstance(generator: &generator)
            let problem: SolverProblem
            do {
                problem = try SolverProblem(table: instance.table, speedup: instance.speedup,
                                            excluding: instance.excluded, buckets: instance.buckets)
            } catch {
                switch error {
                case let .infeasible(target, maximum):
                    infeasible += 1
                    // Infeasible means: even the fastest profile misses the target, and the reported
                    // maximum is exactly that profile's speedup.
                    let fastest = instance.table.layers.map { instance.excluded.contains($0.layer) ? .dense : $0.fastest.level }
                    let best = try #require(instance.table.predictedSpeedup(levels: fastest))
                    #expect(best < target)
                    #expect(abs(best - maximum) <= 1e-12 * best)
                case let .infeasibleAfterRounding(target, maximum, buckets):
                    infeasibleAfterRounding += 1
                    // Rounding up costs less than one bucket per searched layer.
                    let budget = try TimeBudget(table: instance.table, speedup: target, excluding: instance.excluded)
                    let layers = Double(budget.searchedLayers.count)
                    #expect(budget.minimumSearchedSeconds > budget.searchedSeconds * (1 - layers / Double(buckets)))
                    #expect(maximum >= target)
                case .nothingToPrune:
                    nothingToPrune += 1
                    #expect(instance.excluded.count == instance.table.layers.count)
                    continue
                default:
                    Issue.record("unexpected \(error)")
                }
                continue
            }
            solved += 1
            let solver = DPSolver(problem: problem)
            let expected = bruteForce(problem, costs: instance.costs)
            let solution = try solver.solve(costs: instance.costs)
            let optimum = try #require(expected)
            #expect(solution.cost == optimum.cost)
            // The returned profile: its own cost and ticks, and the exact time within the budget.
            let n = problem.levelCount
            var cost = 0.0, ticks = 0
            for (l, layerIndex) in problem.budget.searchedLayers.enumerated() {
                let s = solution.levels[layerIndex].index
                cost += instance.costs[l * n + s]
                ticks += Int(problem.ticks[l * n + s])
                #expect(problem.ticks[l * n + s] >= 0)
            }
            #expect(cost == solution.cost)
            #expect(ticks == solution.bucketsUsed && ticks <= problem.buckets)
            for index in problem.budget.excludedLayers { #expect(solution.levels[index] == .dense) }
            let allowed = instance.table.baseSeconds / instance.speedup
            #expect(solution.predictedSeconds <= allowed * (1 + 1e-12))
            #expect(solution.predictedSpeedup >= instance.speedup * (1 - 1e-12))
        }
        // The generator must exercise every outcome.
        #expect(solved > 2000 && infeasible > 500 && infeasibleAfterRounding > 100)
        print("random instances: \(solved) solved = brute force, \(infeasible) infeasible, "
              + "\(infeasibleAfterRounding) infeasible after rounding, \(nothingToPrune) with nothing to prune")
    }

    @Test func infeasibleAfterRoundingReallyHasNoDiscreteSolution() throws {
        // Two layers of 0.5 s with a budget of exactly 1 s and 3 buckets: Δ = 1/3, each rounds up to
        // 2 buckets, 4 > 3: feasible on the timing model, not after rounding.
        let grid = try SparsityGrid(minimum: 0.5, maximum: 0.5, steps: 0)
        let layers = ["a", "b"].map { LayerTiming(layer: LayerID($0), seconds: [0.6, 0.5]) }
        let table = try TimingTable(engine: "t", grid: grid, baseSeconds: 1.2, overheadSeconds: 0, layers: layers)
        #expect(throws: BudgetError.infeasibleAfterRounding(target: 1.2, maximumSpeedup: 1.2, buckets: 3)) {
            try SolverProblem(table: table, speedup: 1.2, buckets: 3)
        }
        #expect(throws: BudgetError.infeasible(target: 1.25, maximumSpeedup: 1.2)) {
            try SolverProblem(table: table, speedup: 1.25, buckets: 3)
        }
        let problem = try SolverProblem(table: table, speedup: 1.2, buckets: 4)
        let solution = try DPSolver(problem: problem).solve(costs: [0, 1, 0, 1])
        #expect(solution.levels == [SparsityLevel(1), SparsityLevel(1)])
        #expect(String(describing: BudgetError.infeasible(target: 3, maximumSpeedup: 2.5))
            .contains("largest achievable speedup is 2.500×"))
    }

    @Test func solverReusesItsWorkspace() throws {
        let table = try Fixtures.table("rn18_unstr.txt")
        let problem = try SolverProblem(table: table, speedup: 2, excluding: Fixtures.excludedLayers(of: table))
        let solver = DPSolver(problem: problem)
        let costs = problem.costs(coefficients: Array(repeating: 1, count: problem.layerCount))
        let first = try solver.solve(costs: costs)
        var levels = first.levels
        for _ in 0..<3 { try solver.solve(costs: costs, into: &levels) }
        #expect(levels == first.levels)
        solver.reset(problem: try SolverProblem(table: table, speedup: 1.5))
        let other = try solver.solve(costs: solver.problem.costs(coefficients: Array(repeating: 1, count: table.layers.count)))
        #expect(other.predictedSpeedup >= 1.5)
    }
}
