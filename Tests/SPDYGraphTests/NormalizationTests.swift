import Testing
@testable import SPDYGraph
import SPDYTensor

@Suite("Normalization")
struct NormalizationTests {
    @Test func batchNormalizationByHand() throws {
        let x = Tensor(shape: [1, 2, 1, 2], floats: [1, 3, 10, 20])
        let scale = Tensor(shape: [2], floats: [2, 1]), bias = Tensor(shape: [2], floats: [0, 1])
        let mean = Tensor(shape: [2], floats: [2, 10]), variance = Tensor(shape: [2], floats: [4, 25])
        for opset in [9, 14, 15] {
            let node = nnNode("BatchNormalization", inputs: 5, ["epsilon": .float(0)])
            let y = try nnEvaluate(node, [x, scale, bias, mean, variance], opset: opset)[0]
            // Channel 0: (x − 2)/2·2 + 0; channel 1: (x − 10)/5 + 1.
            #expect(y.floats == [-1, 1, 1, 3])
        }
        // Default epsilon 1e−5 changes the result slightly.
        let y = try nnEvaluate(nnNode("BatchNormalization", inputs: 5), [x, scale, bias, mean, variance])[0]
        #expect(nnClose(y.floats, [-1, 1, 1, 3], absolute: 1e-5))
    }

    @Test func batchNormalizationErrors() throws {
        let types = [ValueType(.float32, [1, 2, 3])] + [ValueType](repeating: ValueType(.float32, [2]), count: 4)
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("BatchNormalization", inputs: 5, ["training_mode": .int(1)]), types, opset: 14)
        }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("BatchNormalization", inputs: 5, outputs: 3), types, opset: 15) }
        var wrong = types
        wrong[3] = ValueType(.float32, [3])
        #expect(throws: GraphError.self) { try nnInfer(nnNode("BatchNormalization", inputs: 5), wrong) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("BatchNormalization", inputs: 5), Array(types.prefix(4)) + [nil]) }
        // Before opset 14 training_mode is not an attribute of BatchNormalization: ignored.
        #expect(try nnInfer(nnNode("BatchNormalization", inputs: 5, ["training_mode": .int(1)]), types, opset: 9) == [types[0]])
    }

    @Test func layerNormalization() throws {
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 2, 4, 6])
        let scale = Tensor(shape: [3], floats: [1, 1, 2]), bias = Tensor(shape: [3], floats: [0, 0, 1])
        let outs = try nnEvaluate(nnNode("LayerNormalization", inputs: 3, outputs: 3, ["epsilon": .float(0)]), [x, scale, bias])
        #expect(outs.count == 3)
        let s = Float(1.5).squareRoot()  // 1/sqrt(2/3)
        #expect(nnClose(outs[0].floats, [-s, 0, 2 * s + 1, -s, 0, 2 * s + 1]))
        #expect(outs[1].shape == [2, 1] && outs[1].floats == [2, 4])
        #expect(nnClose(outs[2].floats, [s, s / 2]))
        // axis 0 normalises everything; no bias; one output.
        let all = try nnEvaluate(nnNode("LayerNormalization", inputs: 2, ["axis": .int(0)]), [x, Tensor(shape: [2, 3], floats: [Float](repeating: 1, count: 6))])
        #expect(all.count == 1)
        let v = all[0].floats
        #expect(Swift.abs(v.reduce(0, +)) < 1e-5)
        #expect(Swift.abs(v.map { $0 * $0 }.reduce(0, +) / 6 - 1) < 1e-4)
    }

    @Test func layerNormalizationErrors() throws {
        let x = ValueType(.float32, [2, 3])
        #expect(throws: GraphError.self) { try nnInfer(nnNode("LayerNormalization", inputs: 2), [x, ValueType(.float32, [3])], opset: 16) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("LayerNormalization", inputs: 2), [x, ValueType(.float32, [2])]) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("LayerNormalization", inputs: 2, ["axis": .int(2)]), [x, ValueType(.float32, [3])]) }
        #expect(throws: GraphError.self) { try nnInfer(nnNode("LayerNormalization", inputs: 2), [x, nil]) }
    }

    @Test func instanceNormalization() throws {
        let x = Tensor(shape: [1, 2, 2], floats: [1, 3, 5, 5])
        let y = try nnEvaluate(nnNode("InstanceNormalization", inputs: 3, ["epsilon": .float(0)]),
                               [x, Tensor(shape: [2], floats: [2, 1]), Tensor(shape: [2], floats: [1, 7])])[0]
        // Channel 0: mean 2, std 1 → 2·(∓1) + 1; channel 1 is constant: 0/0 is NaN without epsilon.
        #expect(y.floats[0] == -1 && y.floats[1] == 3)
        #expect(y.floats[2].isNaN)
        let z = try nnEvaluate(nnNode("InstanceNormalization", inputs: 3),
                               [x, Tensor(shape: [2], floats: [2, 1]), Tensor(shape: [2], floats: [1, 7])])[0]
        #expect(z.floats[2] == 7 && z.floats[3] == 7)
        #expect(throws: GraphError.self) {
            try nnInfer(nnNode("InstanceNormalization", inputs: 3), [ValueType(.float32, [1, 2, 2]), ValueType(.float32, [3]), ValueType(.float32, [2])])
        }
    }
}
