import ArgumentParser
import Foundation
import SPDYCore

/// `spdy solve`: Algorithm 1 with the prior alone (every sensitivity coefficient 1) on a timing
/// table, next to the uniform profile at the same target.
struct SolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve",
        abstract: "Find the per-layer sparsity profile that meets a speedup target on a timing table.",
        discussion: """
            Runs the dynamic program with the prior costs e = (level/(n−1))² (every sensitivity 1) and \
            prints each layer's level, the predicted speedup, and the uniform profile at the same target. \
            The table may be our JSON format or the reference text format (detected by content). \
            Excluded layers stay dense and are charged at their dense time.
            """)

    @Option(help: "Timing table: our JSON or the reference text format.")
    var timings: String

    @Option(help: "Target speedup over the dense model, e.g. 2 for 2×.")
    var speedup: Double

    @Option(name: .customLong("exclude"), parsing: .singleValue, help: "A layer kept dense (repeatable).")
    var excluded: [String] = []

    @Option(help: "Number of time buckets of the dynamic program.")
    var buckets: Int = SolverProblem.defaultBuckets

    @Flag(help: "Repair known table defects (keep the first of duplicated levels, mark missing levels unavailable, drop empty layers) instead of refusing the table; every repair is reported.")
    var repair = false

    @Flag(help: "Print a machine-readable JSON result.")
    var json = false

    func validate() throws {
        guard speedup.isFinite, speedup > 0 else { throw ValidationError("--speedup must be a positive number") }
        guard buckets >= 1, buckets <= 10_000_000 else { throw ValidationError("--buckets must be in 1…10000000") }
    }

    func run() throws {
        do {
            let url = URL(fileURLWithPath: timings)
            let table = try TimingTable.load(from: try Data(contentsOf: url), file: url.lastPathComponent,
                                             policy: repair ? .repairAll : .strict)
            for repair in table.repairs { printError("repaired: \(repair)") }
            let exclusions = Set(excluded.map(LayerID.init(_:)))
            let problem = try SolverProblem.refining(table: table, speedup: speedup, excluding: exclusions, buckets: buckets)
            let solution = try DPSolver(problem: problem)
                .solve(costs: problem.costs(coefficients: Array(repeating: 1, count: problem.layerCount)))
            let profile = Profile(table: table, levels: solution.levels, method: "dp-prior", targetSpeedup: speedup)
            let uniform = Result { () throws(BaselineError) in
                try UniformBaseline.profile(table: table, speedup: speedup, excluding: exclusions)
            }
            let report = SolveReport(table: table, problem: problem, profile: profile, uniform: uniform)
            print(json ? report.json() : report.text())
        } catch let error as TimingTableError {
            try fail(error.description, hint: repair ? nil : "run with --repair to load it with explicit repairs")
        } catch let error as BudgetError {
            switch error {
            case let .infeasible(_, maximum), let .infeasibleAfterRounding(_, maximum, _):
                try fail(error.description, hint: nil, largestAchievableSpeedup: maximum)
            default:
                try fail(error.description, hint: nil)
            }
        } catch let error as DPSolver.SolveError {
            try fail(error.description, hint: nil)
        } catch let error as CocoaError {
            try fail("cannot read \(timings): \(error.localizedDescription)", hint: nil)
        }
    }

    /// Reports an error (also as JSON on standard output with `--json`) and exits with status 1.
    private func fail(_ message: String, hint: String?, largestAchievableSpeedup: Double? = nil) throws -> Never {
        printError("error: " + message)
        if let hint { printError("hint: " + hint) }
        if json {
            var object: [String: Any] = ["error": message]
            if let largestAchievableSpeedup { object["largestAchievableSpeedup"] = largestAchievableSpeedup }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
        }
        throw ExitCode.failure
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
