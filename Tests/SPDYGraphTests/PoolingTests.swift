import Testing
@testable import SPDYGraph
import SPDYTensor

@Suite("Pooling")
struct PoolingTests {
    @Test func maxPoolCeilModeOnnxExample() throws {
        // ONNX maxpool_2d_ceil: 4×4 of 1…16, kernel 3, stride 2.
        let x = nnIota([1, 1, 4, 4])
        let ceil = try nnEvaluate(nnNode("MaxPool", inputs: 1, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]),
                                                                 "ceil_mode": .int(1)]), [x])[0]
        #expect(ceil.shape == [1, 1, 2, 2])
        #expect(ceil.floats == [11, 12, 15, 16])
        let floor = try nnEvaluate(nnNode("MaxPool", inputs: 1, ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2])]), [x])[0]
        #expect(floor.floats == [11])
    }

    @Test func ceilModeDropsWindowStartingInPadding() throws {
        // Size 5, kernel 2, stride 2, pad 1 each side: ceil gives 4 windows, the last would start in
        // the end padding, so 3 remain (PyTorch / ONNX Runtime rule).
        let x = Tensor(shape: [1, 1, 5], floats: [1, 5, 2, 4, 3])
        let y = try nnEvaluate(nnNode("MaxPool", inputs: 1, ["kernel_shape": .ints([2]), "strides": .ints([2]),
                                                              "pads": .ints([1, 1]), "ceil_mode": .int(1)]), [x])[0]
        #expect(y.shape == [1, 1, 3])
        #expect(y.floats == [1, 5, 4])
    }

    @Test func maxPoolPaddedAndDilated() throws {
        let x = nnIota([1, 1, 4, 4])
        // Dilation 2, kernel 2: windows take elements two apart.
        let y = try nnEvaluate(nnNode("MaxPool", inputs: 1, ["kernel_shape": .ints([2, 2]), "dilations": .ints([2, 2])]), [x])[0]
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.floats == [11, 12, 15, 16])
        // Padding never wins, even for negative inputs.
        let neg = Tensor(shape: [1, 1, 2, 2], floats: [-1, -2, -3, -4])
        let p = try nnEvaluate(nnNode("MaxPool", inputs: 1, ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]), [neg])[0]
        #expect(p.shape == [1, 1, 3, 3])
        #expect(p.floats == [-1, -1, -2, -1, -1, -2, -3, -3, -4])
    }

    @Test func averagePoolCountIncludePad() throws {
        // ONNX averagepool_2d_pads(_count_include_pad): 5×5 of 1…25, kernel 3, pads 2.
        let x = nnIota([1, 1, 5, 5])
        let attrs: [String: Attribute] = ["kernel_shape": .ints([3, 3]), "pads": .ints([2, 2, 2, 2])]
        let excl = try nnEvaluate(nnNode("AveragePool", inputs: 1, attrs), [x])[0]
        var incAttrs = attrs
        incAttrs["count_include_pad"] = .int(1)
        let incl = try nnEvaluate(nnNode("AveragePool", inputs: 1, incAttrs), [x])[0]
        #expect(excl.shape == [1, 1, 7, 7])
        #expect(excl.floats[0] == 1)                          // only x[0,0] is real
        #expect(nnClose([incl.floats[0]], [1.0 / 9]))          // divided by all 9 positions
        #expect(excl.floats[1] == 1.5)                         // (1 + 2) / 2
        #expect(nnClose([incl.floats[1]], [3.0 / 9]))
        #expect(excl.floats[24] == 13 && incl.floats[24] == 13) // centre: full window of 3×3 around 13
    }

    @Test func averagePoolSamePadding() throws {
        let x = nnIota([1, 1, 3, 3])
        let upper = try nnEvaluate(nnNode("AveragePool", inputs: 1, ["kernel_shape": .ints([2, 2]), "auto_pad": .string("SAME_UPPER")]), [x])[0]
        #expect(upper.shape == [1, 1, 3, 3])
        #expect(upper.floats == [3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9])
        let lower = try nnEvaluate(nnNode("AveragePool", inputs: 1, ["kernel_shape": .ints([2, 2]), "auto_pad": .string("SAME_LOWER")]), [x])[0]
        #expect(lower.floats == [1, 1.5, 2.5, 2.5, 3, 4, 5.5, 6, 7])
        let valid = try nnEvaluate(nnNode("AveragePool", inputs: 1, ["kernel_shape": .ints([2, 2]), "auto_pad": .string("VALID"),
                                                                       "strides": .ints([2, 2])]), [x])[0]
        #expect(valid.floats == [3])
    }

    @Test func globalPools() throws {
        let x = nnIota([2, 3, 2, 2])
        let avg = try nnEvaluate(nnNode("GlobalAveragePool", inputs: 1), [x])[0]
        #expect(avg.shape == [2, 3, 1, 1])
        #expect(avg.floats == [2.5, 6.5, 10.5, 14.5, 18.5, 22.5])
        let mx = try nnEvaluate(nnNode("GlobalMaxPool", inputs: 1), [x])[0]
        #expect(mx.floats == [4, 8, 12, 16, 20, 24])
        let one = try nnEvaluate(nnNode("GlobalAveragePool", inputs: 1), [nnIota([1, 2, 4])])[0]
        #expect(one.shape == [1, 2, 1])
        #expect(one.floats == [2.5, 6.5])
    }

    @Test func errors() throws {
        let x = ValueType(.float32, [1, 1, 4, 4])
        // Indices output requested.
        #expect(throws: GraphError.self) { try nnInfer(nnNode("MaxPool", inputs: 1, outputs: 2, ["kernel_shape": .ints([2, 2])]), [x]) }
        #expect(throws: GraphError.self) {
            try nnEvaluate(nnNode("MaxPool", inputs: 1, outputs: 2, ["kernel_shape": .ints([2, 2])]), [nnIota([1, 1, 4, 4])])
        }
        // Missing or wrong-length kernel_shape, oversized window, rank 2 input.
        #expect(throws: GraphError.self) { try nnInfer(nnNode("MaxPool", inputs: 1), [x]) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("AveragePool", inputs: 1, ["kernel_shape": .ints([2])]), [x]) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("AveragePool", inputs: 1, ["kernel_shape": .ints([5, 5])]), [x]) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("GlobalMaxPool", inputs: 1), [ValueType(.float32, [1, 4])]) }
    }
}
