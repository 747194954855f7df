import Testing
@testable import SPDYGraph
import SPDYTensor
import Foundation

@Suite("Reductions and ArgMax")
struct ReductionTests {
    let x = nnIota([2, 3])  // [[1, 2, 3], [4, 5, 6]]
    let axes1 = Tensor(int64s: [1])

    @Test func reduceSumAttributeThenInput() throws {
        let old = try nnEvaluate(nnNode("ReduceSum", inputs: 1, ["axes": .ints([1])]), [x], opset: 11)[0]
        #expect(old.shape == [2, 1] && old.floats == [6, 15])
        let new = try nnEvaluate(nnNode("ReduceSum", inputs: 2, ["keepdims": .int(0)]), [x, axes1], opset: 13)[0]
        #expect(new.shape == [2] && new.floats == [6, 15])
        let all = try nnEvaluate(nnNode("ReduceSum", inputs: 1, ["keepdims": .int(0)]), [x], opset: 13)[0]
        #expect(all.shape == [] && all.floats == [21])
        let noop = try nnEvaluate(nnNode("ReduceSum", inputs: 1, ["noop_with_empty_axes": .int(1)]), [x], opset: 13)[0]
        #expect(noop == x)
        let emptyAxes = try nnEvaluate(nnNode("ReduceSum", inputs: 2), [x, Tensor(int64s: [])], opset: 13)[0]
        #expect(emptyAxes.shape == [1, 1] && emptyAxes.floats == [21])
        // Axes must be constant for inference, and given in the form the opset expects.
        #expect(throws: GraphError.self) { try nnInfer(nnNode("ReduceSum", inputs: 2), [x.nnValueType, ValueType(.int64, [1])], opset: 13) }
        #expect(throws: GraphError.self) { try nnEvaluate(nnNode("ReduceSum", inputs: 1, ["axes": .ints([1])]), [x], opset: 13) }
        #expect(throws: GraphError.self) { try nnEvaluate(nnNode("ReduceSum", inputs: 2), [x, axes1], opset: 11) }
    }

    @Test func otherReductions() throws {
        let cases: [(String, [Float])] = [
            ("ReduceMean", [2, 5]), ("ReduceMax", [3, 6]), ("ReduceMin", [1, 4]), ("ReduceProd", [6, 120]),
            ("ReduceL1", [6, 15]), ("ReduceL2", [Float(14).squareRoot(), Float(77).squareRoot()]),
            ("ReduceSumSquare", [14, 77]), ("ReduceLogSum", [Float(log(6.0)), Float(log(15.0))]),
            ("ReduceLogSumExp", [Float(log(exp(1.0) + exp(2) + exp(3))), Float(log(exp(4.0) + exp(5) + exp(6)))]),
        ]
        for (op, expected) in cases {
            let a = try nnEvaluate(nnNode(op, inputs: 1, ["axes": .ints([-1]), "keepdims": .int(0)]), [x], opset: 13)[0]
            #expect(a.shape == [2] && nnClose(a.floats, expected), "\(op)")
            let b = try nnEvaluate(nnNode(op, inputs: 2, ["keepdims": .int(0)]), [x, Tensor(int64s: [-1])], opset: 18)[0]
            #expect(b == a, "\(op) opset 18")
        }
        let mean0 = try nnEvaluate(nnNode("ReduceMean", inputs: 1, ["axes": .ints([0])]), [x], opset: 11)[0]
        #expect(mean0.shape == [1, 3] && mean0.floats == [2.5, 3.5, 4.5])
        let three = try nnEvaluate(nnNode("ReduceMax", inputs: 1, ["axes": .ints([0, 2])]), [nnIota([2, 3, 4])], opset: 13)[0]
        #expect(three.shape == [1, 3, 1] && three.floats == [16, 20, 24])
    }

    @Test func integerReductions() throws {
        let shape = Tensor(int64s: [2, 3, 4])
        let prod = try nnEvaluate(nnNode("ReduceProd", inputs: 1, ["keepdims": .int(0)]), [shape], opset: 13)[0]
        #expect(prod.dataType == .int64 && prod.integers == [24])
        let mx = try nnEvaluate(nnNode("ReduceMax", inputs: 1, ["keepdims": .int(1)]), [shape], opset: 13)[0]
        #expect(mx.shape == [1] && mx.integers == [4])
        #expect(throws: GraphError.self) { try nnInfer(nnNode("ReduceL2", inputs: 1), [ValueType(.int64, [3])], opset: 13) }
    }

    @Test func reductionErrors() throws {
        #expect(throws: GraphError.self) { try nnInfer(nnNode("ReduceMean", inputs: 1, ["axes": .ints([1, -1])]), [x.nnValueType], opset: 13) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("ReduceMean", inputs: 1, ["axes": .ints([2])]), [x.nnValueType], opset: 13) }
    }

    @Test func argMax() throws {
        let t = Tensor(shape: [2, 3], floats: [1, 3, 3, 5, 2, 5])
        let first = try nnEvaluate(nnNode("ArgMax", inputs: 1, ["axis": .int(1)]), [t], opset: 13)[0]
        #expect(first.dataType == .int64 && first.shape == [2, 1] && first.integers == [1, 0])
        let last = try nnEvaluate(nnNode("ArgMax", inputs: 1, ["axis": .int(1), "select_last_index": .int(1), "keepdims": .int(0)]), [t], opset: 12)[0]
        #expect(last.shape == [2] && last.integers == [2, 2])
        // Before opset 12 select_last_index does not exist.
        let old = try nnEvaluate(nnNode("ArgMax", inputs: 1, ["axis": .int(1), "select_last_index": .int(1)]), [t], opset: 11)[0]
        #expect(old.integers == [1, 0])
        let col = try nnEvaluate(nnNode("ArgMin", inputs: 1), [t], opset: 13)[0]
        #expect(col.shape == [1, 3] && col.integers == [0, 1, 0])
        let ints = try nnEvaluate(nnNode("ArgMax", inputs: 1, ["axis": .int(-1), "keepdims": .int(0)]), [Tensor(int64s: [3, 9, 2])], opset: 13)[0]
        #expect(ints.shape == [] && ints.integers == [1])
        #expect(throws: GraphError.self) { try nnInfer(nnNode("ArgMax", inputs: 1, ["axis": .int(2)]), [t.nnValueType], opset: 13) }
    }
}

fileprivate extension Tensor {
    var nnValueType: ValueType { ValueType(dataType, shape) }
}
