@testable import SPDYGraph
import SPDYTensor
import Testing

/// Regression tests for semantics bugs found by the ONNX node conformance cases
/// (`ONNXNodeConformanceTests`); expected values from the onnx 1.23.2 reference evaluator.
@Suite("Operator fixes found by the ONNX node cases")
struct ConformanceFixTests {
    @Test func negAbsReluOnIntegers() throws {
        let x = Tensor(shape: [4], integers: [-3, 0, 5, Int64.min])
        #expect(try checked1(NegOp.self, [x]) == Tensor(shape: [4], integers: [3, 0, -5, Int64.min]))
        #expect(try checked1(AbsOp.self, [x]) == Tensor(shape: [4], integers: [3, 0, 5, Int64.min]))
        #expect(try checked1(ReluOp.self, [x]) == Tensor(shape: [4], integers: [0, 0, 5, 0]))
        // Narrow types wrap like two's complement: −(−128) is −128 in int8.
        let b = Tensor(shape: [2], integers: [-128, 7], dataType: .int8)
        #expect(try checked1(NegOp.self, [b]) == Tensor(shape: [2], integers: [-128, -7], dataType: .int8))
        #expect(try checked1(AbsOp.self, [b]) == Tensor(shape: [2], integers: [-128, 7], dataType: .int8))
        let i32 = Tensor(shape: [2], integers: [-2, 2], dataType: .int32)
        #expect(try checked1(NegOp.self, [i32]) == Tensor(shape: [2], integers: [2, -2], dataType: .int32))
        // Not allowed by ONNX: Neg on uint8, Relu on integers before opset 14, Exp on integers.
        #expect(throws: GraphError.self) { try evaluated(NegOp.self, [Tensor(shape: [1], integers: [1], dataType: .uint8)]) }
        #expect(throws: GraphError.self) { try evaluated(ReluOp.self, [x], opset: 13) }
        #expect(throws: GraphError.self) { try evaluated(ExpOp.self, [x]) }
        #expect(throws: GraphError.self) { try inferred(NegOp.self, [Tensor(shape: [1], bools: [true])]) }
    }

    @Test func reduceMaxMinOnBoolFromOpset20() throws {
        let x = Tensor(shape: [2, 2], bools: [true, false, false, false])
        let axes = i64(1)
        #expect(try checked1(ReduceMaxOp.self, [x, axes], opset: 20) == Tensor(shape: [2, 1], bools: [true, false]))
        #expect(try checked1(ReduceMinOp.self, [x, axes], opset: 20) == Tensor(shape: [2, 1], bools: [false, false]))
        #expect(try checked1(ReduceMinOp.self, [Tensor(shape: [2], bools: [true, true])], opset: 20) == Tensor(shape: [1], bools: [true]))
        #expect(throws: GraphError.self) { try evaluated(ReduceMaxOp.self, [x, axes], opset: 18) }
        #expect(throws: GraphError.self) { try evaluated(ReduceSumOp.self, [x, axes], opset: 20) }
    }

    /// align_corners uses the unrounded output length (4 · 0.6 = 2.4), as the ONNX reference does.
    @Test func resizeAlignCornersDownsample() throws {
        let x = Tensor(shape: [1, 1, 2, 4], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        let y = try checked1(ResizeOp.self, [x, nil, Tensor(shape: [4], floats: [1, 1, 0.6, 0.6])],
                             ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")])
        #expect(y.shape == [1, 1, 1, 2])
        #expect(abs(y.floats[0] - 1) < 1e-6 && abs(y.floats[1] - 3.142857) < 1e-5)
    }

    @Test func resizeCubicSymmetricAndAntialias() throws {
        let x = Tensor(shape: [1, 1, 1, 4], floats: [1, 2, 4, 8])
        let cubic = try checked1(ResizeOp.self, [x, nil, Tensor(shape: [4], floats: [1, 1, 1, 2])], ["mode": .string("cubic")])
        let expected: [Float] = [0.89453125, 1.15625, 1.5625, 2.41796875, 3.16015625, 5.1171875, 7.1640625, 8.421875]
        #expect(zip(cubic.floats, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        let symmetricAttributes: [String: Attribute] = ["mode": .string("linear"), "coordinate_transformation_mode": .string("half_pixel_symmetric")]
        let symmetric = try checked1(ResizeOp.self, [x, nil, nil, i64(1, 1, 1, 3)], opset: 19, symmetricAttributes)
        #expect(zip(symmetric.floats, [1.1666666, 3, 7.3333335] as [Float]).allSatisfy { abs($0 - $1) < 1e-5 })
        // half_pixel_symmetric arrives in opset 19.
        #expect(throws: GraphError.self) { try evaluated(ResizeOp.self, [x, nil, nil, i64(1, 1, 1, 3)], opset: 18, symmetricAttributes) }
        let smooth = try checked1(ResizeOp.self, [x, nil, nil, i64(1, 1, 1, 2)], ["mode": .string("linear"), "antialias": .int(1)])
        #expect(smooth.floats == [1.75, 5.75])
    }

    @Test func maxPoolOnUInt8() throws {
        let x = Tensor(shape: [1, 1, 2, 2], integers: [1, 250, 3, 4], dataType: .uint8)
        let y = try checked1(MaxPoolOp.self, [x], ["kernel_shape": .ints([2, 2])])
        #expect(y == Tensor(shape: [1, 1, 1, 1], integers: [250], dataType: .uint8))
        #expect(throws: GraphError.self) { try evaluated(MaxPoolOp.self, [x], opset: 11, ["kernel_shape": .ints([2, 2])]) }
        #expect(throws: GraphError.self) { try evaluated(AveragePoolOp.self, [x], ["kernel_shape": .ints([2, 2])]) }
    }
}
