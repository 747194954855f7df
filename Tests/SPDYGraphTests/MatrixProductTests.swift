import Testing
@testable import SPDYGraph
import SPDYTensor

@Suite("Gemm and MatMul")
struct MatrixProductTests {
    let a = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
    let b = Tensor(shape: [3, 2], floats: [1, 0, 0, 1, 1, 1])

    @Test func gemmByHand() throws {
        // A·B = [[4, 5], [10, 11]].
        let y = try nnEvaluate(nnNode("Gemm", inputs: 2), [a, b], opset: 13)[0]
        #expect(y.shape == [2, 2])
        #expect(y.floats == [4, 5, 10, 11])
        // alpha 2, beta 0.5, C a row [1, 2] broadcast.
        let c = Tensor(shape: [2], floats: [2, 4])
        let z = try nnEvaluate(nnNode("Gemm", inputs: 3, ["alpha": .float(2), "beta": .float(0.5)]), [a, b, c], opset: 11)[0]
        #expect(z.floats == [9, 12, 21, 24])
        // Scalar C.
        let s = try nnEvaluate(nnNode("Gemm", inputs: 3), [a, b, Tensor(scalar: 1)])[0]
        #expect(s.floats == [5, 6, 11, 12])
    }

    @Test func gemmTransposes() throws {
        let at = Tensor(shape: [3, 2], floats: [1, 4, 2, 5, 3, 6])  // Aᵀ
        let bt = Tensor(shape: [2, 3], floats: [1, 0, 1, 0, 1, 1])  // Bᵀ
        for (x, w, ta, tb) in [(at, b, 1, 0), (a, bt, 0, 1), (at, bt, 1, 1)] {
            let y = try nnEvaluate(nnNode("Gemm", inputs: 2, ["transA": .int(ta), "transB": .int(tb)]), [x, w])[0]
            #expect(y.floats == [4, 5, 10, 11])
        }
        // Column C [2, 1].
        let col = try nnEvaluate(nnNode("Gemm", inputs: 3, ["transB": .int(1)]), [a, bt, Tensor(shape: [2, 1], floats: [1, -1])])[0]
        #expect(col.floats == [5, 6, 9, 10])
    }

    @Test func gemmErrors() throws {
        #expect(throws: GraphError.self) { try nnInfer(nnNode("Gemm", inputs: 2), [ValueType(.float32, [2, 3]), ValueType(.float32, [2, 3])]) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("Gemm", inputs: 2), [ValueType(.float32, [2, 3, 1]), ValueType(.float32, [3, 2])]) }
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("Gemm", inputs: 3), [ValueType(.float32, [2, 3]), ValueType(.float32, [3, 2]), ValueType(.float32, [3])])
        }
    }

    @Test func matmulPromotion() throws {
        let v = Tensor(shape: [3], floats: [1, 2, 3])
        let dot = try nnEvaluate(nnNode("MatMul", inputs: 2), [v, v])[0]
        #expect(dot.shape == [])
        #expect(dot.floats == [14])
        let mv = try nnEvaluate(nnNode("MatMul", inputs: 2), [a, v])[0]
        #expect(mv.shape == [2])
        #expect(mv.floats == [14, 32])
        let vm = try nnEvaluate(nnNode("MatMul", inputs: 2), [v, b])[0]
        #expect(vm.shape == [2])
        #expect(vm.floats == [4, 5])
        let mm = try nnEvaluate(nnNode("MatMul", inputs: 2), [a, b])[0]
        #expect(mm.floats == [4, 5, 10, 11])
    }

    @Test func matmulBatchedBroadcast() throws {
        let xs = [2, 1, 2, 3], ws = [3, 3, 4]
        let x = Tensor(shape: xs, floats: nnRandom(12, seed: 7)), w = Tensor(shape: ws, floats: nnRandom(36, seed: 8))
        let y = try nnEvaluate(nnNode("MatMul", inputs: 2), [x, w])[0]
        #expect(y.shape == [2, 3, 2, 4])
        let xv = x.floats, wv = w.floats
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<3 {
            let xm = Tensor(shape: [2, 3], floats: Array(xv[(i * 6)..<(i * 6 + 6)]))
            let wm = Tensor(shape: [3, 4], floats: Array(wv[(j * 12)..<(j * 12 + 12)]))
            expected += ReferenceMath.gemm(xm, wm, nil).floats
        }}
        #expect(nnClose(y.floats, expected))
        // Batched matrix times a vector.
        let mv = try nnEvaluate(nnNode("MatMul", inputs: 2), [w, Tensor(shape: [4], floats: [1, 0, 0, 0])])[0]
        #expect(mv.shape == [3, 3])
        #expect(mv.floats == (0..<9).map { wv[$0 * 4] })
    }

    @Test func matmulErrors() throws {
        #expect(throws: GraphError.self) { try nnInfer(nnNode("MatMul", inputs: 2), [ValueType(.float32, [2, 3]), ValueType(.float32, [2, 3])]) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("MatMul", inputs: 2), [ValueType(.float32, []), ValueType(.float32, [2])]) }
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("MatMul", inputs: 2), [ValueType(.float32, [2, 2, 3]), ValueType(.float32, [3, 3, 2])])
        }
    }
}
