import ArgumentParser
import Foundation
import SPDYCore
import SPDYKernels

/// `spdy bench kernels`: dense OpenBLAS against our sparse kernels, layer shape by layer shape
/// and level by level of the SPDY grid, measured side by side in one run.
struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Sparse kernels against dense OpenBLAS on BERT, MiniLM and ResNet-50 layer shapes.")

    @Option(help: "Threads for both the dense and the sparse kernels.")
    var threads: Int = 2

    @Option(help: "Only these suites (bert-base, minilm, resnet50); repeat or comma-separate.")
    var suite: [String] = []

    @Option(help: "Sparsities to measure, comma-separated (default: every SPDY grid level from 40% to 99%).")
    var sparsities: String?

    @Option(help: "Batch size of the ResNet-50 convolution shapes.")
    var batch: Int = 16

    @Option(help: "Untimed runs before each measurement.")
    var warmup: Int = 1

    @Option(help: "Timed runs per measurement (the median is reported).")
    var repetitions: Int = 5

    @Flag(help: "First check every kernel against its reference twin over the verifier's sweep.")
    var verify = false

    @Flag(help: "Print JSON records instead of a table.")
    var json = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if repetitions < 1 { throw ValidationError("--repetitions must be at least 1") }
        if let s = sparsities, parseSparsities(s) == nil {
            throw ValidationError("--sparsities expects fractions in [0, 1), comma-separated, got '\(s)'")
        }
        let known = Set(KernelBenchShape.standard().map(\.suite))
        for s in selectedSuites where !known.contains(s) {
            throw ValidationError("unknown suite '\(s)'; known: \(known.sorted().joined(separator: ", "))")
        }
    }

    private var selectedSuites: [String] { suite.flatMap { $0.split(separator: ",").map(String.init) } }

    private func parseSparsities(_ text: String) -> [Double]? {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 && $0! < 1 }) else { return nil }
        return values.map { $0! }
    }

    func run() throws {
        if verify {
            let cases = SparseVerifier.run(threads: threads)
            let failed = cases.filter { !$0.passed }
            let worst = cases.map { $0.maxAbsError / max(1, $0.scale) }.max() ?? 0
            let line = "verifier: \(cases.count) cases, \(failed.count) failed, worst relative error \(worst)\n"
            FileHandle.standardError.write(Data(line.utf8))
            for c in failed {
                FileHandle.standardError.write(Data("  FAILED \(c.kernel) \(c.shape) at \(c.sparsity): \(c.maxAbsError)\n".utf8))
            }
            if !failed.isEmpty { throw CLIError("\(failed.count) sparse kernel cases differ from their reference twins") }
        }
        let levels = sparsities.flatMap(parseSparsities) ?? SparsityGrid.standard.sparsities.filter { $0 > 0 }
        let wanted = Set(selectedSuites)
        let shapes = KernelBenchShape.standard(resnetBatch: batch).filter { wanted.isEmpty || wanted.contains($0.suite) }
        let bench = KernelBenchmark(threads: threads, warmup: warmup, repetitions: repetitions)
        var records: [KernelBenchRecord] = []
        if !json {
            print("sparse kernels: \(SparseMatrix.instructionSet.rawValue) (available: \(KernelInstructionSet.available.map(\.rawValue).joined(separator: ", ")))")
            print("layer                                      method     sparsity  dense ms  sparse ms  speedup  dense GF/s  sparse eff GF/s  nnz GF/s  avx2 ms  blocked ms  blocked speedup")
        }
        for shape in shapes {
            bench.run(shape, sparsities: levels) { r in
                records.append(r)
                guard !json else { return }
                let label = r.layer.padding(toLength: 42, withPad: " ", startingAt: 0)
                let method = r.method.padding(toLength: 9, withPad: " ", startingAt: 0)
                print(label + " " + method + String(format: "  %6.1f%%  %8.3f  %9.3f  %6.2f×  %9.1f  %15.1f  %8.1f",
                                                    100 * r.sparsity, r.dense_ms, r.sparse_ms, r.speedup,
                                                    r.dense_gflops, r.sparse_effective_gflops, r.sparse_nonzero_gflops)
                      + (r.sparse_avx2_ms.map { String(format: "  %7.3f", $0) } ?? "")
                      + (r.sparse_blocked_ms.map { String(format: "  %10.3f  %14.2f×", $0, r.blocked_speedup ?? 0) } ?? ""))
            }
        }
        if json { print(try JSONOutput.string(records)) }
    }
}
