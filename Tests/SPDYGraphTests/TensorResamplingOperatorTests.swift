@testable import SPDYGraph
import SPDYTensor
import Testing

@Suite("Tensor operators: padding and resizing")
struct TensorResamplingOperatorTests {
    @Test func padConstant() throws {
        let x = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        let y = try checked1(PadOp.self, [x, i64(0, 1, 1, 0)])
        #expect(y == Tensor(shape: [3, 3], floats: [0, 1, 2, 0, 3, 4, 0, 0, 0]))
        let z = try checked1(PadOp.self, [x, i64(0, 1, 1, 0), Tensor(scalar: 9)], runtime: [0, 2])
        #expect(z == Tensor(shape: [3, 3], floats: [9, 1, 2, 9, 3, 4, 9, 9, 9]))
        // Opset 18: pads refer to `axes`.
        let a = try checked1(PadOp.self, [x, i64(1, 0), nil, i64(-1)])
        #expect(a == Tensor(shape: [2, 3], floats: [0, 1, 2, 0, 3, 4]))
        // Before opset 11: attributes.
        let old = try checked1(PadOp.self, [Tensor(shape: [1], integers: [1])], opset: 10, ["pads": .ints([1, 1]), "value": .float(5)])
        #expect(old == Tensor(shape: [3], integers: [5, 1, 5]))
    }

    @Test func padReflectEdgeWrapAndCrop() throws {
        let x = Tensor(shape: [3], floats: [1, 2, 3])
        #expect(try checked1(PadOp.self, [x, i64(2, 2)], ["mode": .string("reflect")]).floats == [3, 2, 1, 2, 3, 2, 1])
        #expect(try checked1(PadOp.self, [x, i64(1, 2)], ["mode": .string("edge")]).floats == [1, 1, 2, 3, 3, 3])
        #expect(try checked1(PadOp.self, [x, i64(1, 2)], opset: 19, ["mode": .string("wrap")]).floats == [3, 1, 2, 3, 1, 2])
        // `wrap` arrives in opset 19.
        #expect(throws: GraphError.self) { try evaluated(PadOp.self, [x, i64(1, 2)], opset: 18, ["mode": .string("wrap")]) }
        #expect(try checked1(PadOp.self, [iota([4]), i64(-1, 1)]).floats == [1, 2, 3, 0])
        let m = try checked1(PadOp.self, [iota([2, 2]), i64(1, 0, 0, 0)], ["mode": .string("edge")])
        #expect(m == Tensor(shape: [3, 2], floats: [0, 1, 0, 1, 2, 3]))
    }

    @Test func padErrors() throws {
        let x = Tensor(shape: [3], floats: [1, 2, 3])
        #expect(throws: GraphError.self) { try evaluated(PadOp.self, [x, i64(1)]) }
        #expect(throws: GraphError.self) { try evaluated(PadOp.self, [x, i64(-2, -2)]) }
        #expect(throws: GraphError.self) { try evaluated(PadOp.self, [x, i64(1, 1)], ["mode": .string("mirror")]) }
        #expect(throws: GraphError.self) { try evaluated(PadOp.self, [x, i64(1, 1), Tensor(shape: [], integers: [1])]) }
        #expect(throws: GraphError.self) { try evaluated(PadOp.self, [Tensor(zeros: [0]), i64(1, 1)], ["mode": .string("edge")]) }
        #expect(throws: GraphError.needsConstant(node: "n", opType: "Pad", input: "in1")) {
            try inferred(PadOp.self, [x, i64(1, 1)], runtime: [0, 1])
        }
    }

    let square = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
    let upsampled: [Float] = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]

    @Test func resizeNearestUpsampleByTwo() throws {
        let scales = Tensor(shape: [4], floats: [1, 1, 2, 2])
        let y = try checked1(ResizeOp.self, [square, nil, scales], opset: 13)
        #expect(y == Tensor(shape: [1, 1, 4, 4], floats: upsampled))
        let asym = try checked1(ResizeOp.self, [square, nil, scales], opset: 13,
                                ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")])
        #expect(asym.floats == upsampled)
        // Opset 11: roi and scales present, scales empty, sizes given.
        let empty = Tensor(shape: [0], floats: [])
        let sized = try checked1(ResizeOp.self, [square, empty, empty, i64(1, 1, 4, 4)], opset: 11)
        #expect(sized.floats == upsampled)
        // Opset 18: axes.
        let axes = try checked1(ResizeOp.self, [square, nil, Tensor(shape: [2], floats: [2, 2])], opset: 18, ["axes": .ints([-2, -1])])
        #expect(axes.floats == upsampled)
        let ints = try checked1(ResizeOp.self, [Tensor(shape: [1, 2], integers: [5, 6]), nil, Tensor(shape: [2], floats: [1, 2])])
        #expect(ints == Tensor(shape: [1, 4], integers: [5, 5, 6, 6]))
    }

    @Test func resizeNearestOnnxExamples() throws {
        // onnx test resize_upsample_scales_nearest (scales 1, 1, 2, 3).
        let y = try checked1(ResizeOp.self, [square, nil, Tensor(shape: [4], floats: [1, 1, 2, 3])])
        #expect(y == Tensor(shape: [1, 1, 4, 6], floats: [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4]))
        // onnx test resize_downsample_scales_nearest (scales 1, 1, 0.6, 0.6).
        let wide = Tensor(shape: [1, 1, 2, 4], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        let d = try checked1(ResizeOp.self, [wide, nil, Tensor(shape: [4], floats: [1, 1, 0.6, 0.6])])
        #expect(d == Tensor(shape: [1, 1, 1, 2], floats: [1, 3]))
    }

    @Test func resizeNearestModes() throws {
        let x = Tensor(shape: [3], floats: [10, 20, 30])
        let scales = Tensor(shape: [1], floats: [2])
        func run(_ mode: String) throws -> [Float] {
            try checked1(ResizeOp.self, [x, nil, scales],
                         ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string(mode)]).floats
        }
        #expect(try run("round_prefer_floor") == [10, 10, 20, 20, 30, 30])
        #expect(try run("round_prefer_ceil") == [10, 20, 20, 30, 30, 30])
        #expect(try run("floor") == [10, 10, 20, 20, 30, 30])
        #expect(try run("ceil") == [10, 20, 20, 30, 30, 30])
    }

    @Test func resizeLinear() throws {
        // onnx test resize_upsample_scales_linear (half_pixel).
        let y = try checked1(ResizeOp.self, [square, nil, Tensor(shape: [4], floats: [1, 1, 2, 2])], ["mode": .string("linear")])
        #expect(y == Tensor(shape: [1, 1, 4, 4], floats: [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5,
                                                           2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]))
        let pair = Tensor(shape: [1, 1, 1, 2], floats: [1, 3])
        let corners = try checked1(ResizeOp.self, [pair, nil, nil, i64(1, 1, 1, 3)],
                                   ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")])
        #expect(corners.floats == [1, 2, 3])
        // A length-1 output: pytorch_half_pixel samples coordinate 0, half_pixel the centre.
        let one = i64(1, 1, 1, 1)
        let torch = try checked1(ResizeOp.self, [pair, nil, nil, one],
                                 ["mode": .string("linear"), "coordinate_transformation_mode": .string("pytorch_half_pixel")])
        #expect(torch.floats == [1])
        #expect(try checked1(ResizeOp.self, [pair, nil, nil, one], ["mode": .string("linear")]).floats == [2])
    }

    @Test func resizeKeepAspectRatioPolicy() throws {
        let wide = iota([1, 1, 2, 4])
        let sizes = i64(4, 4)
        let larger = try checked1(ResizeOp.self, [wide, nil, nil, sizes], ["axes": .ints([2, 3]), "keep_aspect_ratio_policy": .string("not_larger")])
        #expect(larger.shape == [1, 1, 2, 4])
        let smaller = try checked1(ResizeOp.self, [wide, nil, nil, sizes], ["axes": .ints([2, 3]), "keep_aspect_ratio_policy": .string("not_smaller")])
        #expect(smaller.shape == [1, 1, 4, 8])
    }

    @Test func resizeErrors() throws {
        let scales = Tensor(shape: [4], floats: [1, 1, 2, 2])
        #expect(throws: GraphError.self) { try evaluated(ResizeOp.self, [square, nil, scales, i64(1, 1, 4, 4)]) }
        #expect(throws: GraphError.self) { try evaluated(ResizeOp.self, [square]) }
        #expect(throws: GraphError.self) { try evaluated(ResizeOp.self, [square, nil, scales], ["mode": .string("bicubic")]) }
        #expect(throws: GraphError.self) { try evaluated(ResizeOp.self, [square, nil, Tensor(shape: [2], floats: [2, 2])]) }
        #expect(throws: GraphError.self) { try evaluated(ResizeOp.self, [square, nil, scales], ["coordinate_transformation_mode": .string("tf_crop_and_resize")]) }
        #expect(throws: GraphError.self) { try evaluated(ResizeOp.self, [Tensor(shape: [2], integers: [1, 2]), nil, Tensor(shape: [1], floats: [2])], ["mode": .string("linear")]) }
        #expect(throws: GraphError.self) { try evaluated(ResizeOp.self, [square, scales], opset: 10) }
        #expect(throws: GraphError.needsConstant(node: "n", opType: "Resize", input: "in2")) {
            try inferred(ResizeOp.self, [square, nil, scales], runtime: [0, 2])
        }
    }
}
