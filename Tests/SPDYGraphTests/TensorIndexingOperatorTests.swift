@testable import SPDYGraph
import SPDYTensor
import Testing

@Suite("Tensor operators: indexing, slicing, splitting")
struct TensorIndexingOperatorTests {
    let table = Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6])

    @Test func gatherRowsColumnsAndNegativeIndices() throws {
        #expect(try checked1(GatherOp.self, [table, i64(0, 2)], runtime: [0, 1]) == Tensor(shape: [2, 2], floats: [1, 2, 5, 6]))
        let nested = Tensor(shape: [1, 2], integers: [-1, 0])
        #expect(try checked1(GatherOp.self, [table, nested]) == Tensor(shape: [1, 2, 2], floats: [5, 6, 1, 2]))
        #expect(try checked1(GatherOp.self, [table, i64(1)], ["axis": .int(1)]) == Tensor(shape: [3, 1], floats: [2, 4, 6]))
        #expect(try checked1(GatherOp.self, [table, i64(-1)], ["axis": .int(-1)]) == Tensor(shape: [3, 1], floats: [2, 4, 6]))
        let scalarIndex = Tensor(shape: [], integers: [1], dataType: .int32)
        #expect(try checked1(GatherOp.self, [table, scalarIndex]) == Tensor(shape: [2], floats: [3, 4]))
        // Shape arithmetic: Shape → Gather(scalar).
        #expect(try checked1(GatherOp.self, [i64(2, 3, 4), Tensor(shape: [], integers: [-2])]) == Tensor(shape: [], integers: [3]))
    }

    @Test func gatherRejectsBadIndicesAndAxes() throws {
        #expect(throws: GraphError.self) { try evaluated(GatherOp.self, [table, i64(3)]) }
        #expect(throws: GraphError.self) { try evaluated(GatherOp.self, [table, i64(-4)]) }
        #expect(throws: GraphError.self) { try evaluated(GatherOp.self, [table, i64(0)], ["axis": .int(2)]) }
        #expect(throws: GraphError.self) { try evaluated(GatherOp.self, [table, Tensor(shape: [1], floats: [0])]) }
        #expect(throws: GraphError.self) { try inferred(GatherOp.self, [table, Tensor(shape: [1], floats: [0])]) }
    }

    @Test func gatherElements() throws {
        let data = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        let idx = Tensor(shape: [2, 2], integers: [0, 0, 1, 0])
        #expect(try checked1(GatherElementsOp.self, [data, idx], ["axis": .int(1)]) == Tensor(shape: [2, 2], floats: [1, 1, 4, 3]))
        let rows = Tensor(shape: [1, 2], integers: [1, -2])
        #expect(try checked1(GatherElementsOp.self, [data, rows]) == Tensor(shape: [1, 2], floats: [3, 2]))
        #expect(throws: GraphError.self) { try evaluated(GatherElementsOp.self, [data, Tensor(shape: [1, 1], integers: [2])]) }
        #expect(throws: GraphError.self) { try evaluated(GatherElementsOp.self, [data, i64(0)]) }
    }

    @Test func slice1DStepsAndClamping() throws {
        let x = iota([10])
        #expect(try checked1(SliceOp.self, [x, i64(2), i64(8), nil, i64(3)]).floats == [2, 5])
        #expect(try checked1(SliceOp.self, [x, i64(-3), i64(int64Max)]).floats == [7, 8, 9])
        #expect(try checked1(SliceOp.self, [x, i64(-1), i64(int64Min), i64(0), i64(-1)]).floats == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
        #expect(try checked1(SliceOp.self, [x, i64(8), i64(1), nil, i64(-2)]).floats == [8, 6, 4, 2])
        #expect(try checked1(SliceOp.self, [x, i64(20), i64(-20), nil, i64(-3)]).floats == [9, 6, 3, 0])
        #expect(try checked1(SliceOp.self, [x, i64(5), i64(2)]).shape == [0])
        #expect(try checked1(SliceOp.self, [x, i64(0), i64(10), nil, i64(int64Max)]).floats == [0])
    }

    @Test func slice2DAxes() throws {
        let x = iota([3, 4])
        #expect(try checked1(SliceOp.self, [x, i64(0, 1), i64(2, 3), i64(0, 1)]) == Tensor(shape: [2, 2], floats: [1, 2, 5, 6]))
        #expect(try checked1(SliceOp.self, [x, i64(2), i64(100), i64(-1)]) == Tensor(shape: [3, 2], floats: [2, 3, 6, 7, 10, 11]))
        let b = Tensor(shape: [2, 2], bools: [true, false, false, true])
        #expect(try checked1(SliceOp.self, [b, i64(1), i64(2)]) == Tensor(shape: [1, 2], bools: [false, true]))
        // Opset 9 and earlier: attributes.
        #expect(try checked1(SliceOp.self, [x], opset: 9, ["starts": .ints([1]), "ends": .ints([-1]), "axes": .ints([1])]).shape == [3, 2])
    }

    @Test func sliceErrors() throws {
        let x = iota([3, 4])
        #expect(throws: GraphError.self) { try evaluated(SliceOp.self, [x, i64(0), i64(2), nil, i64(0)]) }
        #expect(throws: GraphError.self) { try evaluated(SliceOp.self, [x, i64(0, 0), i64(2, 2), i64(1, -1)]) }
        #expect(throws: GraphError.self) { try evaluated(SliceOp.self, [x, i64(0, 0), i64(2)]) }
        #expect(throws: GraphError.self) { try evaluated(SliceOp.self, [x, i64(0), i64(2), i64(2)]) }
        #expect(throws: GraphError.needsConstant(node: "n", opType: "Slice", input: "in2")) {
            try inferred(SliceOp.self, [x, i64(0), i64(2)], runtime: [0, 2])
        }
    }

    @Test func splitAcrossOpsets() throws {
        let x = Tensor(shape: [6], floats: [1, 2, 3, 4, 5, 6])
        let a = try checked(SplitOp.self, [x], outputs: 2, opset: 11, ["split": .ints([2, 4])])
        #expect(a.map(\.floats) == [[1, 2], [3, 4, 5, 6]])
        let b = try checked(SplitOp.self, [x, i64(1, 5)], outputs: 2, opset: 13)
        #expect(b.map(\.floats) == [[1], [2, 3, 4, 5, 6]])
        let c = try checked(SplitOp.self, [x], outputs: 3, opset: 13)
        #expect(c.map(\.floats) == [[1, 2], [3, 4], [5, 6]])
        let seven = iota([7])
        let d = try checked(SplitOp.self, [seven], outputs: 3, opset: 18, ["num_outputs": .int(3)])
        #expect(d.map(\.floats) == [[0, 1, 2], [3, 4, 5], [6]])
        let m = Tensor(shape: [2, 3], integers: [1, 2, 3, 4, 5, 6])
        let e = try checked(SplitOp.self, [m, i64(1, 2)], outputs: 2, opset: 13, ["axis": .int(-1)])
        #expect(e == [Tensor(shape: [2, 1], integers: [1, 4]), Tensor(shape: [2, 2], integers: [2, 3, 5, 6])])
    }

    @Test func splitErrors() throws {
        let seven = iota([7])
        #expect(throws: GraphError.self) { try evaluated(SplitOp.self, [seven], outputs: 3, opset: 13) }
        #expect(throws: GraphError.self) { try evaluated(SplitOp.self, [seven], outputs: 2, opset: 13, ["split": .ints([3, 4])]) }
        #expect(throws: GraphError.self) { try evaluated(SplitOp.self, [seven, i64(3, 3)], outputs: 2, opset: 13) }
        #expect(throws: GraphError.self) { try evaluated(SplitOp.self, [seven], outputs: 2, opset: 18, ["num_outputs": .int(3)]) }
        #expect(throws: GraphError.self) { try evaluated(SplitOp.self, [seven], outputs: 1, opset: 13, ["axis": .int(1)]) }
    }
}
