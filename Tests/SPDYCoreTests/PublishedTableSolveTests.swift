import Foundation
import Testing
@testable import SPDYCore

@Suite struct PublishedTableSolveTests {
    /// Targets 1.2×, 1.3×, … up to the largest feasible, plus the largest feasible itself (less 0.1%).
    static func targets(maximum: Double) -> [Double] {
        var targets: [Double] = []
        var x = 1.2
        while x < maximum { targets.append(x); x = ((x + 0.1) * 10).rounded() / 10 }
        targets.append(maximum * 0.999)
        return targets
    }

    @Test(arguments: Fixtures.tableNames)
    func predictedSpeedupMeetsTheTargetTightly(name: String) throws {
        let table = try Fixtures.table(name)
        let excluded = Fixtures.excludedLayers(of: table)
        let maximum = try TimeBudget(table: table, speedup: 1, excluding: excluded).maximumSpeedup
        var report: [String] = []
        var solver: DPSolver?
        var worst = 0.0
        for target in Self.targets(maximum: maximum) {
            let problem: SolverProblem
            do { problem = try SolverProblem(table: table, speedup: target, excluding: excluded) } catch {
                // Rounding up loses less than one bucket per searched layer, so only targets whose
                // fastest profile is within L/B of the budget can be lost to rounding.
                let budget = try TimeBudget(table: table, speedup: target, excluding: excluded)
                let share = Double(budget.searchedLayers.count) / Double(SolverProblem.defaultBuckets)
                guard case .infeasibleAfterRounding = error,
                      budget.minimumSearchedSeconds > budget.searchedSeconds * (1 - share) else {
                    Issue.record("\(name) at \(target)×: \(error)")
                    continue
                }
                report.append("\(format4(target))× lost to rounding")
                continue
            }
            // Excluded layers are charged: T = base/X − overhead − Σ dense(excluded).
            let excludedDense = table.layers.filter { excluded.contains($0.layer) }.reduce(0) { $0 + $1.denseSeconds }
            #expect(problem.budget.searchedSeconds == table.baseSeconds / target - table.overheadSeconds - excludedDense)
            if let solver { solver.reset(problem: problem) } else { solver = DPSolver(problem: problem) }
            let costs = problem.costs(coefficients: Array(repeating: 1, count: problem.layerCount))
            let solution = try #require(try solver?.solve(costs: costs))
            // Independent recomputation of the predicted time, excluded layers dense.
            var seconds = table.overheadSeconds
            for (timing, level) in zip(table.layers, solution.levels) {
                if excluded.contains(timing.layer) { #expect(level == .dense) }
                seconds += try #require(timing.seconds(at: level))
            }
            let speedup = table.baseSeconds / seconds
            #expect(abs(speedup - solution.predictedSpeedup) <= 1e-12 * speedup)
            #expect(speedup >= target * (1 - 1e-12), "\(name) at \(target)×: predicted \(speedup)×")
            #expect(speedup <= target * 1.01, "\(name) at \(target)×: predicted \(speedup)× is more than 1% above")
            worst = max(worst, speedup / target - 1)
        }
        // The largest target the DP certifies with 10 000 buckets (bisection on feasibility after
        // rounding) is solved, within 1%, and within L/B of the timing model's maximum.
        var feasible = 1.2, infeasible = maximum * (1 + 1e-9)
        for _ in 0..<40 {
            let middle = (feasible + infeasible) / 2
            if (try? SolverProblem(table: table, speedup: middle, excluding: excluded)) != nil {
                feasible = middle
            } else {
                infeasible = middle
            }
        }
        let edge = try SolverProblem(table: table, speedup: feasible, excluding: excluded)
        let edgeSolution = try DPSolver(problem: edge)
            .solve(costs: edge.costs(coefficients: Array(repeating: 1, count: edge.layerCount)))
        #expect(edgeSolution.predictedSpeedup >= feasible * (1 - 1e-12))
        #expect(edgeSolution.predictedSpeedup <= feasible * 1.01)
        #expect(feasible >= maximum * (1 - Double(edge.layerCount) / Double(edge.buckets)))
        // Between that edge and the maximum, finer buckets certify what 10 000 could not.
        let beyond = feasible + (maximum - feasible) * 0.5
        #expect((try? SolverProblem(table: table, speedup: beyond, excluding: excluded)) == nil)
        let refined = try SolverProblem.refining(table: table, speedup: beyond, excluding: excluded)
        let refinedSolution = try DPSolver(problem: refined)
            .solve(costs: refined.costs(coefficients: Array(repeating: 1, count: refined.layerCount)))
        #expect(refined.buckets > edge.buckets)
        #expect(refinedSolution.predictedSpeedup >= beyond * (1 - 1e-12) && refinedSolution.predictedSpeedup <= beyond * 1.01)
        report.append("largest certified \(format4(feasible))× (\(String(format: "%.3f", (1 - feasible / maximum) * 100))% "
                      + "below the maximum \(format4(maximum))×) → \(format4(edgeSolution.predictedSpeedup))×")
        print("\(name): targets 1.2× … \(format4(maximum * 0.999))×, worst overshoot \(String(format: "%.3f", worst * 100))% "
              + report.joined(separator: "; "))
    }
}
