import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYTraining

/// Conv gradients (weights, bias, input) against float64 central differences, over groups,
/// strides, pads, dilations, 1-D and several images per product.
@Suite("Conv gradients")
struct ConvolutionGradientTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var x: [Int]            // N, C, spatial…
        var w: [Int]            // M, C/g, kernel…
        var attributes: [String: Attribute]
        var bias = true
        var workspace = 1 << 22
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "3x3 pad 1", x: [2, 3, 7, 6], w: [4, 3, 3, 3], attributes: ["pads": .ints([1, 1, 1, 1])]),
        Case(label: "groups 2, stride 2, asymmetric pads", x: [2, 4, 9, 8], w: [6, 2, 3, 2],
             attributes: ["group": .int(2), "strides": .ints([2, 2]), "pads": .ints([1, 0, 2, 1])]),
        Case(label: "depthwise 3x3 stride 2", x: [2, 5, 9, 7], w: [5, 1, 3, 3],
             attributes: ["group": .int(5), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]),
        Case(label: "depthwise 5x5 dilation 2, no bias", x: [1, 3, 11, 10], w: [3, 1, 5, 5],
             attributes: ["group": .int(3), "dilations": .ints([2, 2]), "pads": .ints([3, 4, 4, 3])], bias: false),
        Case(label: "channel multiplier (group 2, 4 outputs per group)", x: [2, 2, 6, 6], w: [8, 1, 3, 3],
             attributes: ["group": .int(2), "pads": .ints([1, 1, 1, 1])]),
        Case(label: "dilation 2 stride 3", x: [2, 3, 13, 12], w: [2, 3, 3, 3],
             attributes: ["dilations": .ints([2, 2]), "strides": .ints([3, 3])]),
        Case(label: "1x1 pointwise", x: [3, 5, 4, 5], w: [7, 5, 1, 1], attributes: [:]),
        Case(label: "1x1 stride 2 (downsample)", x: [2, 4, 7, 7], w: [6, 4, 1, 1], attributes: ["strides": .ints([2, 2])]),
        Case(label: "1-D, stride 2, pad 2", x: [2, 3, 11], w: [4, 3, 5], attributes: ["strides": .ints([2]), "pads": .ints([2, 2])]),
        Case(label: "SAME_UPPER auto pad, stride 2", x: [2, 3, 8, 7], w: [3, 3, 3, 3],
             attributes: ["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])]),
        Case(label: "5x5 pad 2 (contiguous patch rows)", x: [2, 3, 6, 9], w: [2, 3, 5, 5], attributes: ["pads": .ints([2, 2, 2, 2])]),
        Case(label: "3x3 dilation 2 pad 2, asymmetric rows (contiguous patch rows)", x: [2, 2, 7, 8], w: [3, 2, 3, 3],
             attributes: ["dilations": .ints([2, 2]), "pads": .ints([1, 2, 3, 2])]),
        Case(label: "wide planes, groups 2", x: [3, 4, 17, 16], w: [6, 2, 3, 3],
             attributes: ["group": .int(2), "pads": .ints([1, 1, 1, 1])]),
        Case(label: "wide planes, stride 2", x: [2, 3, 33, 34], w: [2, 3, 3, 3],
             attributes: ["strides": .ints([2, 2])]),
        Case(label: "one image per product (small workspace)", x: [3, 3, 6, 5], w: [4, 3, 3, 3],
             attributes: ["pads": .ints([1, 1, 1, 1])], workspace: 64),
        Case(label: "two images per product, pointwise", x: [5, 4, 3, 3], w: [3, 4, 1, 1], attributes: [:], workspace: 80),
    ]

    @Test("weights, bias and input", arguments: cases)
    func conv(_ c: Case) throws {
        var random = TestRandom(seed: UInt64(c.x.reduce(0, +) * 31 + c.w.reduce(0, +)))
        var b = GraphBuilder()
        let x = b.input("x", c.x)
        let w = b.initializer("w", random.tensor(c.w, scale: 0.5))
        var inputs = [x, w]
        if c.bias { inputs.append(b.initializer("b", random.tensor([c.w[0]]))) }
        let y = b.op("Conv", inputs, c.attributes)
        try GradientCheck(graph: b.graph([y]), feeds: ["x": random.tensor(c.x)], inputGradients: ["x"],
                          workspaceElements: c.workspace).run()
    }

    @Test("a small CNN: Conv → BatchNorm → Relu → MaxPool → Conv, residual Add, GlobalAveragePool, Gemm")
    func smallNetwork() throws {
        var random = TestRandom(seed: 11)
        var b = GraphBuilder()
        let x = b.input("x", [2, 3, 8, 8])
        let c1 = b.op("Conv", [x, b.initializer("c1.w", random.tensor([4, 3, 3, 3], scale: 0.4)),
                                b.initializer("c1.b", random.tensor([4]))], ["pads": .ints([1, 1, 1, 1])])
        let bn = b.op("BatchNormalization", [c1, b.initializer("bn.scale", random.tensor([4], offset: 1)),
                                             b.initializer("bn.bias", random.tensor([4])),
                                             b.initializer("bn.mean", random.tensor([4], scale: 0.1)),
                                             b.initializer("bn.var", random.uniform([4], 0.5, 2))])
        let r = b.op("Relu", [bn])
        let p = b.op("MaxPool", [r], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        let c2 = b.op("Conv", [p, b.initializer("c2.w", random.tensor([4, 4, 3, 3], scale: 0.3))], ["pads": .ints([1, 1, 1, 1])])
        let sum = b.op("Add", [c2, p])
        let g = b.op("GlobalAveragePool", [b.op("Relu", [sum])])
        let f = b.op("Flatten", [g])
        let logits = b.op("Gemm", [f, b.initializer("fc.w", random.tensor([5, 4])), b.initializer("fc.b", random.tensor([5]))],
                          ["transB": .int(1)])
        let check = GradientCheck(graph: b.graph([logits]), feeds: ["x": random.tensor([2, 3, 8, 8])], inputGradients: ["x"])
        try check.run()
        var batchStatistics = check
        batchStatistics.batchNorm = .batchStatistics(momentum: nil)
        batchStatistics.compareWithReference = false  // the reference evaluates BatchNorm in inference mode
        try batchStatistics.run()
    }
}
