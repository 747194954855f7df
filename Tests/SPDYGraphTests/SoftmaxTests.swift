import Testing
@testable import SPDYGraph
import SPDYTensor
import Foundation

@Suite("Softmax and LogSoftmax")
struct SoftmaxTests {
    let x = Tensor(shape: [2, 2, 3], floats: nnRandom(12, seed: 11).map { $0 * 5 })

    /// Sums of `v` over groups of `size` consecutive elements after permuting nothing.
    func sums(_ v: [Float], outer: Int, n: Int, inner: Int) -> [Float] {
        var result: [Float] = []
        for o in 0..<outer { for i in 0..<inner {
            result.append((0..<n).reduce(0) { $0 + v[(o * n + $1) * inner + i] })
        }}
        return result
    }

    @Test func byHand() throws {
        let y = try nnEvaluate(nnNode("Softmax", inputs: 1), [Tensor(shape: [1, 3], floats: [0, 0, Float(log(2.0))])])[0]
        #expect(nnClose(y.floats, [0.25, 0.25, 0.5]))
        let l = try nnEvaluate(nnNode("LogSoftmax", inputs: 1), [Tensor(shape: [1, 3], floats: [0, 0, Float(log(2.0))])])[0]
        #expect(nnClose(l.floats, [Float(log(0.25)), Float(log(0.25)), Float(log(0.5))]))
        // Large inputs do not overflow.
        let big = try nnEvaluate(nnNode("Softmax", inputs: 1), [Tensor(shape: [2], floats: [1000, 1000])])[0]
        #expect(big.floats == [0.5, 0.5])
    }

    @Test func opset13AlongAxis() throws {
        let last = try nnEvaluate(nnNode("Softmax", inputs: 1), [x], opset: 13)[0]
        #expect(nnClose(sums(last.floats, outer: 4, n: 3, inner: 1), [Float](repeating: 1, count: 4)))
        let middle = try nnEvaluate(nnNode("Softmax", inputs: 1, ["axis": .int(1)]), [x], opset: 13)[0]
        #expect(nnClose(sums(middle.floats, outer: 2, n: 2, inner: 3), [Float](repeating: 1, count: 6)))
        let neg = try nnEvaluate(nnNode("Softmax", inputs: 1, ["axis": .int(-2)]), [x], opset: 13)[0]
        #expect(neg == middle)
    }

    @Test func opset11CoercesTo2D() throws {
        // Default axis 1: each batch row of 6 elements sums to 1.
        let y = try nnEvaluate(nnNode("Softmax", inputs: 1), [x], opset: 11)[0]
        #expect(nnClose(sums(y.floats, outer: 2, n: 6, inner: 1), [1, 1]))
        // axis −1 (= 2) matches opset 13 along the last axis.
        let a = try nnEvaluate(nnNode("Softmax", inputs: 1, ["axis": .int(2)]), [x], opset: 11)[0]
        #expect(a == (try nnEvaluate(nnNode("Softmax", inputs: 1), [x], opset: 13)[0]))
        // axis 0: everything in one row.
        let z = try nnEvaluate(nnNode("LogSoftmax", inputs: 1, ["axis": .int(0)]), [x], opset: 12)[0]
        #expect(nnClose([z.floats.map { Foundation.exp($0) }.reduce(0, +)], [1]))
    }

    @Test func logSoftmaxIsLogOfSoftmax() throws {
        for opset in [11, 13] {
            let s = try nnEvaluate(nnNode("Softmax", inputs: 1, ["axis": .int(1)]), [x], opset: opset)[0]
            let l = try nnEvaluate(nnNode("LogSoftmax", inputs: 1, ["axis": .int(1)]), [x], opset: opset)[0]
            #expect(nnClose(l.floats, s.floats.map { Foundation.log($0) }, absolute: 1e-5, relative: 1e-4))
        }
    }

    @Test func errors() throws {
        #expect(throws: GraphError.self) { try nnInfer(nnNode("Softmax", inputs: 1, ["axis": .int(3)]), [ValueType(.float32, [2, 3, 4])], opset: 13) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("Softmax", inputs: 1), [ValueType(.float32, [])], opset: 13) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("LogSoftmax", inputs: 1), [ValueType(.int64, [2])], opset: 13) }
    }
}
