// Benchmark of the SPDY dynamic program (Algorithm 1) on the published DeepSparse tables.
// Run optimised: `swift run -c release solver-bench [fixtures-dir] [--repetitions N]`.
import Foundation
import SPDYCore

#if DEBUG
print("warning: debug build; timings are meaningless. Run `swift run -c release solver-bench`.")
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
var repetitions = 200
var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Tests/Fixtures/deepsparse-timings").standardizedFileURL
var index = 0
while index < arguments.count {
    if arguments[index] == "--repetitions", index + 1 < arguments.count, let value = Int(arguments[index + 1]) {
        repetitions = value
        index += 2
    } else {
        directory = URL(fileURLWithPath: arguments[index])
        index += 1
    }
}

/// Wall-clock seconds of `body`.
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Median and quartiles of `values`.
func summary(_ values: [Double]) -> (median: Double, q1: Double, q3: Double, min: Double, max: Double) {
    let sorted = values.sorted()
    func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))] }
    return (at(0.5), at(0.25), at(0.75), sorted[0], sorted[sorted.count - 1])
}

/// Times `repetitions` solves of `table` at `speedup` after warm-up; costs from random coefficients.
func bench(_ table: TimingTable, speedup: Double, excluding: Set<LayerID>, buckets: Int,
           repetitions: Int) throws -> [Double]
{
    let problem = try SolverProblem(table: table, speedup: speedup, excluding: excluding, buckets: buckets)
    let solver = DPSolver(problem: problem)
    var generator = SplitMix64(seed: 42)
    var costs: [Double] = []
    var levels: [SparsityLevel] = []
    var coefficients = [Double](repeating: 1, count: problem.layerCount)
    var samples: [Double] = []
    for repetition in 0..<(repetitions + 20) {
        for l in coefficients.indices { coefficients[l] = generator.nextUnitDouble() }
        problem.fillCosts(coefficients: coefficients, into: &costs)
        let elapsed = seconds { _ = try? solver.solve(costs: costs, into: &levels) }
        if repetition >= 20 { samples.append(elapsed) }  // the first 20 are warm-up
    }
    return samples
}

func ms(_ value: Double) -> String { String(format: "%.3f ms", value * 1e3) }

let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
    .filter { $0.hasSuffix(".txt") }.sorted()
guard files.contains("rn50_unstr.txt") else {
    print("error: no rn50_unstr.txt in \(directory.path)")
    exit(1)
}
print("SPDY DP solver benchmark — \(repetitions) timed solves after 20 warm-up solves, one core")
print("costs: SPDY model, fresh uniform random coefficients per solve; target: 60% of the way to the largest speedup")
print("L = searched layers (other tables: first and last layer excluded)")
for file in ["rn50_unstr.txt"] + files.filter({ $0 != "rn50_unstr.txt" }) {
    do {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        let table = try TimingTable.load(from: data, file: file, policy: .repairAll)
        let firstAndLast: Set<LayerID> = [table.layers[0].layer, table.layers[table.layers.count - 1].layer]
        // ResNet-50: the headline case searches all 54 layers; then conv1/fc excluded, and other bucket counts.
        let cases: [(excluded: Set<LayerID>, buckets: Int)] = file == "rn50_unstr.txt"
            ? [([], 10_000), (firstAndLast, 10_000), ([], 1_000), ([], 100_000)]
            : [(firstAndLast, 10_000)]
        for (excluded, buckets) in cases {
            let target = 1 + (TimeBudgetProbe.maximumSpeedup(table, excluded) - 1) * 0.6
            let reps = buckets > 10_000 ? max(10, repetitions / 10) : repetitions
            let stats = summary(try bench(table, speedup: target, excluding: excluded, buckets: buckets,
                                          repetitions: reps))
            print("\(file.padding(toLength: 18, withPad: " ", startingAt: 0)) L=\(table.layers.count - excluded.count) "
                  + "n=\(table.grid.count) B=\(buckets) target \(String(format: "%.2f", target))×: "
                  + "median \(ms(stats.median))  IQR [\(ms(stats.q1)), \(ms(stats.q3))]  "
                  + "min \(ms(stats.min))  max \(ms(stats.max))")
        }
    } catch {
        print("\(file): \(error)")
    }
}

/// The largest achievable speedup of a table with some layers excluded.
enum TimeBudgetProbe {
    static func maximumSpeedup(_ table: TimingTable, _ excluded: Set<LayerID>) -> Double {
        do { return try TimeBudget(table: table, speedup: 1, excluding: excluded).maximumSpeedup } catch {
            if case let .infeasible(_, maximum) = error { return maximum }
            return 1
        }
    }
}
