@testable import SPDYGraph
import SPDYTensor
import Testing

@Suite("Tensor operators: shape and layout")
struct TensorShapeOperatorTests {
    @Test func reshapeInfersMinusOneAndCopiesZero() throws {
        let y = try checked1(ReshapeOp.self, [iota([2, 3]), i64(3, -1)])
        #expect(y == Tensor(shape: [3, 2], floats: [0, 1, 2, 3, 4, 5]))
        let z = try checked1(ReshapeOp.self, [iota([2, 3, 4]), i64(0, -1)])
        #expect(z.shape == [2, 12])
    }

    @Test func reshapeAllowZeroFromOpset14() throws {
        let empty = Tensor(zeros: [0, 3])
        let y = try checked1(ReshapeOp.self, [empty, i64(3, 0)], opset: 14, ["allowzero": .int(1)])
        #expect(y.shape == [3, 0])
        // Before opset 14 allowzero does not exist: 0 copies the input dimension.
        let z = try checked1(ReshapeOp.self, [iota([2, 3]), i64(0, 3)], opset: 13, ["allowzero": .int(1)])
        #expect(z.shape == [2, 3])
    }

    @Test func reshapeErrors() throws {
        #expect(throws: GraphError.self) { try evaluated(ReshapeOp.self, [iota([2, 3]), i64(-1, -1)]) }
        #expect(throws: GraphError.self) { try evaluated(ReshapeOp.self, [iota([2, 3]), i64(4, 2)]) }
        #expect(throws: GraphError.self) { try evaluated(ReshapeOp.self, [iota([2, 3]), i64(4, -1)]) }
        #expect(throws: GraphError.self) { try evaluated(ReshapeOp.self, [iota([2, 3]), i64(-2, -3)]) }
        #expect(throws: GraphError.self) { try evaluated(ReshapeOp.self, [iota([6]), i64(0, 0, 6)]) }
        #expect(throws: GraphError.needsConstant(node: "n", opType: "Reshape", input: "in1")) {
            try inferred(ReshapeOp.self, [iota([2, 3]), i64(3, 2)], runtime: [0, 1])
        }
    }

    @Test func flattenAxes() throws {
        #expect(try checked1(FlattenOp.self, [iota([2, 3, 4])]).shape == [2, 12])
        #expect(try checked1(FlattenOp.self, [iota([2, 3, 4])], ["axis": .int(-1)]).shape == [6, 4])
        #expect(try checked1(FlattenOp.self, [iota([2, 3, 4])], ["axis": .int(0)]).shape == [1, 24])
        #expect(try checked1(FlattenOp.self, [iota([2, 3, 4])], ["axis": .int(3)]).shape == [24, 1])
        #expect(throws: GraphError.self) { try evaluated(FlattenOp.self, [iota([2, 3, 4])], ["axis": .int(4)]) }
        #expect(throws: GraphError.self) { try evaluated(FlattenOp.self, [iota([2, 3, 4])], ["axis": .int(-4)]) }
    }

    @Test func transposeDefaultAndExplicitPermutation() throws {
        #expect(try checked1(TransposeOp.self, [iota([2, 3])]) == Tensor(shape: [3, 2], floats: [0, 3, 1, 4, 2, 5]))
        let y = try checked1(TransposeOp.self, [iota([2, 1, 3])], ["perm": .ints([2, 0, 1])])
        #expect(y == Tensor(shape: [3, 2, 1], floats: [0, 3, 1, 4, 2, 5]))
        let b = Tensor(shape: [1, 2], bools: [true, false])
        #expect(try checked1(TransposeOp.self, [b]) == Tensor(shape: [2, 1], bools: [true, false]))
        #expect(throws: GraphError.self) { try evaluated(TransposeOp.self, [iota([2, 3])], ["perm": .ints([0, 0])]) }
        #expect(throws: GraphError.self) { try evaluated(TransposeOp.self, [iota([2, 3])], ["perm": .ints([1, 0, 2])]) }
    }

    @Test func squeezeAttributeBeforeOpset13InputAfter() throws {
        let x = iota([1, 3, 1])
        #expect(try checked1(SqueezeOp.self, [x], opset: 11, ["axes": .ints([0])]).shape == [3, 1])
        #expect(try checked1(SqueezeOp.self, [x, i64(-1)], opset: 13).shape == [1, 3])
        #expect(try checked1(SqueezeOp.self, [x], opset: 13).shape == [3])
        #expect(try checked1(SqueezeOp.self, [x], opset: 11).shape == [3])
        #expect(throws: GraphError.self) { try evaluated(SqueezeOp.self, [x, i64(1)], opset: 13) }
        #expect(throws: GraphError.self) { try evaluated(SqueezeOp.self, [x], opset: 13, ["axes": .ints([0])]) }
        #expect(throws: GraphError.self) { try evaluated(SqueezeOp.self, [x, i64(0)], opset: 11) }
        #expect(throws: GraphError.needsConstant(node: "n", opType: "Squeeze", input: "in1")) {
            try inferred(SqueezeOp.self, [x, i64(0)], opset: 13, runtime: [0, 1])
        }
    }

    @Test func unsqueezeAxesIndexTheOutput() throws {
        let x = iota([2, 3])
        let y = try checked1(UnsqueezeOp.self, [x], opset: 11, ["axes": .ints([0, 3])])
        #expect(y.shape == [1, 2, 3, 1])
        #expect(y.floats == x.floats)
        #expect(try checked1(UnsqueezeOp.self, [x, i64(-1)], opset: 13).shape == [2, 3, 1])
        #expect(try checked1(UnsqueezeOp.self, [Tensor(scalar: 5), i64(0)], opset: 13).shape == [1])
        #expect(throws: GraphError.self) { try evaluated(UnsqueezeOp.self, [x, i64(1, 1)], opset: 13) }
        #expect(throws: GraphError.self) { try evaluated(UnsqueezeOp.self, [x, i64(3)], opset: 13) }
        #expect(throws: GraphError.self) { try evaluated(UnsqueezeOp.self, [x], opset: 13) }
        #expect(throws: GraphError.self) { try evaluated(UnsqueezeOp.self, [x], opset: 11) }
    }

    @Test func concatAlongAxes() throws {
        let a = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        let y = try checked1(ConcatOp.self, [a, Tensor(shape: [1, 2], floats: [5, 6])], runtime: [0, 1], ["axis": .int(0)])
        #expect(y == Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]))
        let z = try checked1(ConcatOp.self, [a, Tensor(shape: [2, 1], floats: [5, 6])], runtime: [0, 1], ["axis": .int(-1)])
        #expect(z == Tensor(shape: [2, 3], floats: [1, 2, 5, 3, 4, 6]))
        let s = try checked1(ConcatOp.self, [i64(2, 3), Tensor(shape: [0], integers: []), i64(-1)], ["axis": .int(0)])
        #expect(s == i64(2, 3, -1))
        #expect(throws: GraphError.self) { try evaluated(ConcatOp.self, [a, Tensor(shape: [1, 3], floats: [5, 6, 7])], ["axis": .int(0)]) }
        #expect(throws: GraphError.self) { try evaluated(ConcatOp.self, [a, Tensor(shape: [1, 2], integers: [5, 6])], ["axis": .int(0)]) }
        #expect(throws: GraphError.self) { try evaluated(ConcatOp.self, [a, a], ["axis": .int(2)]) }
        #expect(throws: GraphError.missingAttribute(node: "n", opType: "Concat", attribute: "axis")) { try evaluated(ConcatOp.self, [a, a]) }
    }

    @Test func shapeWithStartAndEndFromOpset15() throws {
        let x = iota([2, 3, 4])
        #expect(try checked1(ShapeOp.self, [x]) == i64(2, 3, 4))
        #expect(try checked1(ShapeOp.self, [x], opset: 15, ["start": .int(1)]) == i64(3, 4))
        #expect(try checked1(ShapeOp.self, [x], opset: 15, ["end": .int(-1)]) == i64(2, 3))
        #expect(try checked1(ShapeOp.self, [x], opset: 15, ["start": .int(-10), "end": .int(10)]) == i64(2, 3, 4))
        #expect(try checked1(ShapeOp.self, [x], opset: 15, ["start": .int(2), "end": .int(1)]) == Tensor(shape: [0], integers: []))
        #expect(try checked1(ShapeOp.self, [x], opset: 13, ["start": .int(1)]) == i64(2, 3, 4))
        #expect(try checked1(SizeOp.self, [x]) == Tensor(shape: [], integers: [24]))
    }

    @Test func expandBroadcastsBothWays() throws {
        let x = Tensor(shape: [3, 1], floats: [1, 2, 3])
        let y = try checked1(ExpandOp.self, [x, i64(2, 1, 4)])
        #expect(y.shape == [2, 3, 4])
        let plane: [Float] = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
        #expect(y.floats == plane + plane)
        #expect(try checked1(ExpandOp.self, [x, i64(1)]).shape == [3, 1])
        let ints = try checked1(ExpandOp.self, [Tensor(shape: [], integers: [7], dataType: .int32), i64(2)])
        #expect(ints == Tensor(shape: [2], integers: [7, 7], dataType: .int32))
        #expect(try checked1(ExpandOp.self, [x, i64(2)]).floats == [1, 1, 2, 2, 3, 3])  // [3,1] with [2] → [3,2]
        #expect(throws: GraphError.self) { try evaluated(ExpandOp.self, [x, i64(2, 2)]) }
        #expect(throws: GraphError.self) { try evaluated(ExpandOp.self, [x, i64(-1, 1)]) }
        #expect(throws: GraphError.needsConstant(node: "n", opType: "Expand", input: "in1")) {
            try inferred(ExpandOp.self, [x, i64(2)], runtime: [0, 1])
        }
    }

    @Test func tileRepeatsEachAxis() throws {
        let x = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        #expect(try checked1(TileOp.self, [x, i64(1, 2)]) == Tensor(shape: [2, 4], floats: [1, 2, 1, 2, 3, 4, 3, 4]))
        #expect(try checked1(TileOp.self, [x, i64(2, 1)]) == Tensor(shape: [4, 2], floats: [1, 2, 3, 4, 1, 2, 3, 4]))
        #expect(try checked1(TileOp.self, [x, i64(0, 1)]).shape == [0, 2])
        #expect(throws: GraphError.self) { try evaluated(TileOp.self, [x, i64(2)]) }
        #expect(throws: GraphError.self) { try evaluated(TileOp.self, [x, i64(2, -1)]) }
    }
}
