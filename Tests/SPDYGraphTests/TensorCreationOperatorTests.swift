@testable import SPDYGraph
import SPDYTensor
import Testing

@Suite("Tensor operators: casts, constants, ranges, dropout")
struct TensorCreationOperatorTests {
    @Test func castUsesOnnxTypeCodes() throws {
        let x = Tensor(shape: [4], floats: [1.75, -1.75, 0, 300])
        #expect(try checked1(CastOp.self, [x], ["to": .int(6)]) == Tensor(shape: [4], integers: [1, -1, 0, 300], dataType: .int32))
        #expect(try checked1(CastOp.self, [x], ["to": .int(7)]) == Tensor(shape: [4], integers: [1, -1, 0, 300]))
        #expect(try checked1(CastOp.self, [x], ["to": .int(2)]) == Tensor(shape: [4], integers: [1, 255, 0, 44], dataType: .uint8))
        #expect(try checked1(CastOp.self, [x], ["to": .int(3)]) == Tensor(shape: [4], integers: [1, -1, 0, 44], dataType: .int8))
        #expect(try checked1(CastOp.self, [x], ["to": .int(9)]) == Tensor(shape: [4], bools: [true, true, false, true]))
        #expect(try checked1(CastOp.self, [x], ["to": .int(1)]) == x)
        #expect(try checked1(CastOp.self, [x], ["to": .int(11)]) == x)  // double is computed as float32
        let b = Tensor(shape: [2], bools: [true, false])
        #expect(try checked1(CastOp.self, [b], ["to": .int(1)]) == Tensor(shape: [2], floats: [1, 0]))
        #expect(try checked1(CastOp.self, [i64(3, -2)], ["to": .int(1)]) == Tensor(shape: [2], floats: [3, -2]))
        #expect(throws: GraphError.self) { try evaluated(CastOp.self, [x], ["to": .int(10)]) }
        #expect(throws: GraphError.self) { try inferred(CastOp.self, [x], ["to": .int(8)]) }
        #expect(throws: GraphError.missingAttribute(node: "n", opType: "Cast", attribute: "to")) { try evaluated(CastOp.self, [x]) }
        let like = Tensor(shape: [1], integers: [0], dataType: .int32)
        #expect(try checked1(CastLikeOp.self, [x, like], runtime: [0, 1]) == Tensor(shape: [4], integers: [1, -1, 0, 300], dataType: .int32))
    }

    @Test func constantAttributes() throws {
        let t = Tensor(shape: [2], floats: [1, 2])
        #expect(try checked1(ConstantOp.self, [], ["value": .tensor(t)]) == t)
        #expect(try checked1(ConstantOp.self, [], ["value_float": .float(2.5)]) == Tensor(scalar: 2.5))
        #expect(try checked1(ConstantOp.self, [], ["value_floats": .floats([1, 2])]) == t)
        #expect(try checked1(ConstantOp.self, [], ["value_int": .int(4)]) == Tensor(shape: [], integers: [4]))
        #expect(try checked1(ConstantOp.self, [], ["value_ints": .ints([1, -1])]) == i64(1, -1))
        #expect(throws: GraphError.self) { try evaluated(ConstantOp.self, []) }
        #expect(throws: GraphError.self) { try evaluated(ConstantOp.self, [], ["value_int": .int(1), "value_float": .float(1)]) }
        #expect(throws: GraphError.self) { try evaluated(ConstantOp.self, [], ["value_string": .string("a")]) }
        #expect(throws: GraphError.self) { try evaluated(ConstantOp.self, [], ["value": .int(1)]) }
    }

    @Test func constantOfShape() throws {
        #expect(try checked1(ConstantOfShapeOp.self, [i64(2, 3)], runtime: []) == Tensor(zeros: [2, 3]))
        let seven = Tensor(shape: [1], integers: [7])
        let y = try checked1(ConstantOfShapeOp.self, [i64(2, 2)], runtime: [], ["value": .tensor(seven)])
        #expect(y == Tensor(shape: [2, 2], integers: [7, 7, 7, 7]))
        let s = try checked1(ConstantOfShapeOp.self, [Tensor(shape: [0], integers: [])], runtime: [], ["value": .tensor(Tensor(shape: [1], bools: [true]))])
        #expect(s == Tensor(shape: [], bools: [true]))
        #expect(throws: GraphError.self) { try evaluated(ConstantOfShapeOp.self, [i64(2, -1)]) }
        #expect(throws: GraphError.self) { try evaluated(ConstantOfShapeOp.self, [i64(2)], ["value": .tensor(Tensor(shape: [2], floats: [1, 2]))]) }
        #expect(throws: GraphError.needsConstant(node: "n", opType: "ConstantOfShape", input: "in0")) {
            try inferred(ConstantOfShapeOp.self, [i64(2)], runtime: [0])
        }
    }

    @Test func range() throws {
        func scalar(_ v: Int64) -> Tensor { Tensor(shape: [], integers: [v]) }
        #expect(try checked1(RangeOp.self, [scalar(3), scalar(10), scalar(3)], runtime: []) == i64(3, 6, 9))
        #expect(try checked1(RangeOp.self, [scalar(10), scalar(4), scalar(-2)], runtime: []) == i64(10, 8, 6))
        #expect(try checked1(RangeOp.self, [scalar(0), scalar(5), scalar(-1)], runtime: []).shape == [0])
        let f = try checked1(RangeOp.self, [Tensor(scalar: 1), Tensor(scalar: 2), Tensor(scalar: 0.25)], runtime: [])
        #expect(f == Tensor(shape: [4], floats: [1, 1.25, 1.5, 1.75]))
        #expect(throws: GraphError.self) { try evaluated(RangeOp.self, [scalar(0), scalar(5), scalar(0)]) }
        #expect(throws: GraphError.self) { try evaluated(RangeOp.self, [scalar(0), Tensor(scalar: 5), scalar(1)]) }
        #expect(throws: GraphError.needsConstant(node: "n", opType: "Range", input: "in1")) {
            try inferred(RangeOp.self, [scalar(0), scalar(5), scalar(1)], runtime: [1])
        }
    }

    @Test func dropoutIsIdentityAtInference() throws {
        let x = iota([2, 2])
        let r = try checked(DropoutOp.self, [x], outputs: 2, opset: 12)
        #expect(r == [x, Tensor(shape: [2, 2], bools: [true, true, true, true])])
        #expect(try checked(DropoutOp.self, [x, Tensor(scalar: 0.5)], opset: 13) == [x])
        #expect(try checked(DropoutOp.self, [x], outputs: 2, opset: 11, ["ratio": .float(0.3)]).count == 2)
        let training = Tensor(shape: [], bools: [true])
        #expect(try checked(DropoutOp.self, [x, Tensor(scalar: 0), training], opset: 13) == [x])
        #expect(throws: GraphError.self) { try evaluated(DropoutOp.self, [x, Tensor(scalar: 0.5), training], opset: 13) }
    }
}
