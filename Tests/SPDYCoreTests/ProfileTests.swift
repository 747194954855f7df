import Foundation
import Testing
@testable import SPDYCore

@Suite struct ProfileTests {
    @Test func roundTripsThroughJSONAndReferenceText() throws {
        let table = try Fixtures.table("rn50_unstr.txt")
        let problem = try SolverProblem(table: table, speedup: 2, excluding: ["conv1", "fc"])
        let solution = try DPSolver(problem: problem)
            .solve(costs: problem.costs(coefficients: Array(repeating: 1, count: problem.layerCount)))
        let profile = Profile(table: table, levels: solution.levels, method: "dp-prior", targetSpeedup: 2, loss: 0.5,
                              seed: 9)
        #expect(profile.predictedSpeedup == solution.predictedSpeedup)
        #expect(profile["conv1"] == .dense)
        let decoded = try Profile.decodeJSON(profile.encodeJSON(), file: "p.json")
        #expect(decoded == profile)
        let text = profile.referenceText()
        #expect(text.hasPrefix("0.0000 conv1\n"))
        let fromText = try Profile.parseReferenceText(text, grid: table.grid)
        #expect(try fromText.levels(for: table) == solution.levels)
    }

    @Test func reportsBadProfiles() throws {
        #expect {
            try Profile.parseReferenceText("0.0000 conv1\n0.4100 layer1\nfoo\n0.4000 conv1\n", file: "p.txt")
        } throws: { error in
            let issues = (error as? ProfileError)?.issues ?? []
            return issues.map(\.line) == [2, 3, 4]
                && issues[0].kind == .levelNotOnGrid(0.41)
                && issues[1].kind == .malformedLine("foo")
                && issues[2].kind == .duplicatedLayer(firstLine: 1)
        }
        let table = try Fixtures.table("rn18_unstr.txt")
        let partial = try Profile.parseReferenceText("0.0000 conv1\n")
        #expect(throws: ProfileError.self) { try partial.levels(for: table) }
        var json = try #require(String(data: Profile(table: table, levels: Array(repeating: .dense, count: 21)).encodeJSON(),
                                       encoding: .utf8))
        json = json.replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 7")
        #expect {
            try Profile.decodeJSON(Data(json.utf8))
        } throws: { ($0 as? ProfileError)?.issues.first?.kind == .unsupportedFormatVersion(7) }
    }
}

@Suite struct BaselineTests {
    @Test(arguments: Fixtures.tableNames)
    func uniformIsTheLowestCommonLevelMeetingTheTarget(name: String) throws {
        let table = try Fixtures.table(name)
        let excluded = Fixtures.excludedLayers(of: table)
        for target in [1.2, 1.5, 2.0, 3.0] {
            guard let levels = try? UniformBaseline.levels(table: table, speedup: target, excluding: excluded) else {
                // Infeasible targets must really be out of every uniform level's reach.
                #expect(UniformBaseline.bestSpeedup(table: table, excluded: excluded) < target)
                continue
            }
            let level = try #require(levels.first { $0 != .dense })
            #expect(try #require(table.predictedSpeedup(levels: levels)) >= target)
            for (timing, chosen) in zip(table.layers, levels) {
                #expect(chosen == (excluded.contains(timing.layer) ? .dense : level))
            }
            // Every lower level misses the target (or is unavailable for some layer).
            for lower in 0..<level.index {
                let lowerLevels = table.layers.map { excluded.contains($0.layer) ? .dense : SparsityLevel(lower) }
                #expect((table.predictedSpeedup(levels: lowerLevels) ?? 0) < target)
            }
            // SPDY's DP with prior costs is never slower than needed and never needs more sparsity
            // in total cost terms than uniform: its cost is ≤ uniform's cost under the same prior.
            let problem = try SolverProblem(table: table, speedup: target, excluding: excluded)
            let costs = problem.costs(coefficients: Array(repeating: 1, count: problem.layerCount))
            let dp = try DPSolver(problem: problem).solve(costs: costs)
            let x = Double(level.index) / Double(table.grid.count - 1)
            #expect(dp.cost <= Double(problem.layerCount) * x * x + 1e-9)
        }
        #expect(throws: BaselineError.self) { try UniformBaseline.levels(table: table, speedup: 50, excluding: excluded) }
    }

    @Test func globalMagnitudeUsesOneThresholdAndMeetsTheTarget() throws {
        let table = try Fixtures.table("rn18_unstr.txt")
        let excluded = Fixtures.excludedLayers(of: table)
        // Synthetic weights: each layer Gaussian-like with its own scale.
        var generator = SplitMix64(seed: 1)
        var statistics: [LayerID: any MagnitudeStatistics] = [:]
        var scales: [LayerID: Double] = [:]
        for timing in table.layers {
            let scale = 0.2 + generator.nextUnitDouble()
            scales[timing.layer] = scale
            statistics[timing.layer] = SortedMagnitudes(weights: (0..<4_000).map { _ in
                Float((generator.nextUnitDouble() + generator.nextUnitDouble() + generator.nextUnitDouble() - 1.5) * scale)
            })
        }
        for target in [1.5, 2.0, 2.5] {
            let (profile, threshold) = try GlobalMagnitudeBaseline.profile(table: table, statistics: statistics,
                                                                           speedup: target, excluding: excluded)
            let levels = try profile.levels(for: table)
            #expect(try #require(profile.predictedSpeedup) >= target)
            for (timing, level) in zip(table.layers, levels) {
                if excluded.contains(timing.layer) { #expect(level == .dense); continue }
                // Each layer sits at the highest level whose magnitude quantile is ≤ the threshold.
                let stats = try #require(statistics[timing.layer])
                #expect(stats.threshold(forSparsity: table.grid[level]) <= threshold)
                if level.index + 1 < table.grid.count {
                    #expect(stats.threshold(forSparsity: table.grid[SparsityLevel(level.index + 1)]) > threshold)
                }
            }
            // Layers with smaller weights are pruned at least as much.
            let sorted = table.layers.filter { !excluded.contains($0.layer) }.sorted { scales[$0.layer]! < scales[$1.layer]! }
            let first = try #require(profile[sorted.first!.layer]), last = try #require(profile[sorted.last!.layer])
            #expect(first >= last)
        }
        #expect(throws: BaselineError.missingStatistics("conv1")) {
            try GlobalMagnitudeBaseline.profile(table: table, statistics: [:], speedup: 2)
        }
    }
}
