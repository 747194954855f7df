import Testing
import SPDYKernels

/// The sparse kernels against their reference twins across the verifier's sweep, with every
/// instruction set this CPU runs (AVX2, and AVX-512F where present), chosen for the test's task
/// only (`KernelInstructionSet.$override`), so tests running meanwhile keep theirs.
@Suite struct SparseKernelTests {
    @Test(arguments: [1, 2], KernelInstructionSet.available)
    func everyKernelEqualsItsTwin(threads: Int, instructionSet: KernelInstructionSet) {
        // For this task only: kernels built here keep it, other tests running meanwhile are unaffected.
        let cases = KernelInstructionSet.$override.withValue(instructionSet) { SparseVerifier.run(threads: threads) }
        #expect(cases.count == (SparseVerifier.linearShapes.count + SparseVerifier.convolutionShapes.count)
            * SparseVerifier.sparsities.count)
        for c in cases where !c.passed {
            Issue.record("\(instructionSet) \(c.kernel) \(c.shape) at \(c.sparsity): max error \(c.maxAbsError) (scale \(c.scale))")
        }
        // Both convolution methods are exercised, with and without a phase split, pointwise
        // both packed and in place.
        #expect(SparseVerifier.convolutionShapes.contains { g in
            g.isPointwise && g.inHeight * g.inWidth >= 2048 && g.inChannels <= 64
        })
        let methods = Set(cases.map(\.kernel))
        #expect(methods.isSuperset(of: ["SparseLinear", "SparseConvolution(direct)", "SparseConvolution(pointwise)",
                                        "SparseConvolution(direct/s2)", "SparseConvolution(direct/s3)",
                                        "SparseConvolution(direct/s2x1)", "SparseConvolution(pointwise/s2)"]))
    }

    @Test func compressionKeepsExactlyTheNonzeros() {
        var w: [Float] = [0, 1, 0, 2, 0, 0, 0, 0, 3, -0.0, 4, 0]
        w[9] = -0.0
        let m = w.withUnsafeBufferPointer { SparseMatrix(rows: 3, depth: 4, a: $0.baseAddress!, lda: 4, ldx: 8) }
        defer { m.deallocate() }
        #expect(m.nonzeros == 4)
        #expect(m.nonzeros(in: 1..<2) == 0)
        #expect(abs(m.density - 4.0 / 12.0) < 1e-12)
    }

    @Test func columnTilesNeverLeaveANarrowRemainder() {
        let t = ColumnTiles(count: 67, width: 64)
        #expect(t.count == 2)
        #expect(t[0] == 0..<64)
        #expect(t[1] == 59..<67)
        #expect(ColumnTiles(count: 5, width: 64)[0] == 0..<5)
        #expect(ColumnTiles(count: 0, width: 64).count == 0)
    }
}
