import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYTraining

/// Gradients of the matrix products, normalisations, softmax, reductions and pools.
@Suite("Layer gradients")
struct LayerGradientTests {
    struct GemmCase: CustomTestStringConvertible, Sendable {
        var transA: Bool, transB: Bool
        var alpha: Float, beta: Float
        var c: [Int]?
        var testDescription: String { "transA \(transA) transB \(transB) α \(alpha) β \(beta) C \(c.map { "\($0)" } ?? "none")" }
    }

    static let gemms: [GemmCase] = [
        GemmCase(transA: false, transB: false, alpha: 1, beta: 1, c: [5]),
        GemmCase(transA: false, transB: true, alpha: 0.5, beta: 2, c: [3, 5]),
        GemmCase(transA: true, transB: false, alpha: 1.5, beta: 1, c: [3, 1]),
        GemmCase(transA: true, transB: true, alpha: 1, beta: 0.25, c: []),
        GemmCase(transA: false, transB: true, alpha: 1, beta: 1, c: nil),
    ]

    @Test("Gemm: A, B and C", arguments: gemms)
    func gemm(_ c: GemmCase) throws {
        var random = TestRandom(seed: 21)
        let (m, k, n) = (3, 4, 5)
        var b = GraphBuilder()
        let a = b.input("a", c.transA ? [k, m] : [m, k])
        var inputs = [a, b.initializer("w", random.tensor(c.transB ? [n, k] : [k, n]))]
        if let cs = c.c { inputs.append(b.input("c", cs)) }
        let y = b.op("Gemm", inputs, ["transA": .int(c.transA ? 1 : 0), "transB": .int(c.transB ? 1 : 0),
                                      "alpha": .float(c.alpha), "beta": .float(c.beta)])
        var feeds = ["a": random.tensor(c.transA ? [k, m] : [m, k])]
        if let cs = c.c { feeds["c"] = random.tensor(cs) }
        try GradientCheck(graph: b.graph([y]), feeds: feeds, inputGradients: Set(feeds.keys)).run()
    }

    struct MatMulCase: CustomTestStringConvertible, Sendable {
        var a: [Int], b: [Int]
        var weight: Bool
        var testDescription: String { "\(a) × \(b)\(weight ? " (weight)" : "")" }
    }

    static let matmuls: [MatMulCase] = [
        MatMulCase(a: [3, 4], b: [4, 5], weight: true),
        MatMulCase(a: [2, 3, 3, 4], b: [4, 5], weight: true),
        MatMulCase(a: [2, 1, 3, 4], b: [1, 3, 4, 2], weight: false),
        MatMulCase(a: [2, 3, 4], b: [2, 4, 3], weight: false),
        MatMulCase(a: [3, 4], b: [2, 4, 5], weight: false),
        MatMulCase(a: [4], b: [4, 5], weight: true),
        MatMulCase(a: [3, 4], b: [4], weight: false),
        MatMulCase(a: [2, 3, 4], b: [4], weight: false),
    ]

    @Test("MatMul: batched, broadcast, 1-D", arguments: matmuls)
    func matmul(_ c: MatMulCase) throws {
        var random = TestRandom(seed: UInt64(c.a.reduce(1, *) + 7 * c.b.reduce(1, *)))
        var b = GraphBuilder()
        let a = b.input("a", c.a)
        let w = c.weight ? b.initializer("w", random.tensor(c.b)) : b.input("w", c.b)
        let y = b.op("MatMul", [a, w])
        var feeds = ["a": random.tensor(c.a)]
        if !c.weight { feeds["w"] = random.tensor(c.b) }
        try GradientCheck(graph: b.graph([y]), feeds: feeds, inputGradients: Set(feeds.keys)).run()
    }

    @Test("BatchNormalization: frozen and batch statistics", arguments: [false, true])
    func batchNorm(_ batchStatistics: Bool) throws {
        var random = TestRandom(seed: 31)
        var b = GraphBuilder()
        let x = b.input("x", [3, 4, 3, 2])
        let y = b.op("BatchNormalization", [x, b.initializer("s", random.tensor([4], offset: 1)), b.initializer("b", random.tensor([4])),
                                            b.initializer("m", random.tensor([4], scale: 0.2)), b.initializer("v", random.uniform([4], 0.5, 2))],
                     ["epsilon": .float(1e-3)])
        var check = GradientCheck(graph: b.graph([y]), feeds: ["x": random.tensor([3, 4, 3, 2], offset: 0.3)], inputGradients: ["x"])
        if batchStatistics {
            check.batchNorm = .batchStatistics(momentum: nil)
            check.compareWithReference = false
        }
        try check.run()
    }

    @Test("LayerNormalization over the last axis and the last two", arguments: [-1, -2])
    func layerNorm(_ axis: Int) throws {
        var random = TestRandom(seed: 41)
        var b = GraphBuilder()
        let x = b.input("x", [2, 3, 6])
        let normalized = axis == -1 ? [6] : [3, 6]
        let y = b.op("LayerNormalization", [x, b.initializer("scale", random.tensor(normalized, offset: 1)),
                                            b.initializer("bias", random.tensor(normalized))],
                     ["axis": .int(axis), "epsilon": .float(1e-5)])
        try GradientCheck(graph: b.graph([y]), feeds: ["x": random.tensor([2, 3, 6])], inputGradients: ["x"]).run()
    }

    @Test("LayerNorm exported as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add (MiniLM's form)")
    func decomposedLayerNorm() throws {
        var random = TestRandom(seed: 43)
        var b = GraphBuilder(opset: 14)
        let x = b.input("x", [2, 3, 8])
        let axes: [String: Attribute] = ["axes": .ints([-1])]
        let mean = b.op("ReduceMean", [x], axes)
        let centered = b.op("Sub", [x, mean])
        let squared = b.op("Pow", [centered, b.initializer("two", Tensor(scalar: 2))])
        let variance = b.op("ReduceMean", [squared], axes)
        let std = b.op("Sqrt", [b.op("Add", [variance, b.initializer("eps", Tensor(scalar: 1e-5))])])
        let normalized = b.op("Div", [centered, std])
        let scaled = b.op("Mul", [normalized, b.initializer("ln.weight", random.tensor([8], offset: 1))])
        let y = b.op("Add", [scaled, b.initializer("ln.bias", random.tensor([8]))])
        let graph = b.graph([y])
        #expect(ParameterDiscovery.roles(in: graph) == ["ln.weight": .normalization, "ln.bias": .normalization])
        try GradientCheck(graph: graph, feeds: ["x": random.tensor([2, 3, 8])], inputGradients: ["x"]).run()
    }

    @Test("Softmax and LogSoftmax", arguments: [("Softmax", 13, -1), ("Softmax", 13, 1), ("Softmax", 11, 1), ("LogSoftmax", 13, -1), ("LogSoftmax", 13, 0)])
    func softmax(_ op: String, _ opset: Int, _ axis: Int) throws {
        var random = TestRandom(seed: 51)
        var b = GraphBuilder(opset: opset)
        let x = b.input("x", [2, 3, 4])
        let y = b.op(op, [x], ["axis": .int(axis)])
        try GradientCheck(graph: b.graph([y]), feeds: ["x": random.tensor([2, 3, 4], scale: 2)], inputGradients: ["x"]).run()
    }

    @Test("ReduceMean and ReduceSum: axes by attribute or input, keepdims")
    func reductions() throws {
        var random = TestRandom(seed: 61)
        var b = GraphBuilder(opset: 13)
        let x = b.input("x", [2, 3, 4, 5])
        let m1 = b.op("ReduceMean", [x], ["axes": .ints([1, -1]), "keepdims": .int(1)])
        let m2 = b.op("ReduceMean", [x], ["axes": .ints([0, 2]), "keepdims": .int(0)])
        let s1 = b.op("ReduceSum", [x, b.ints([2])], ["keepdims": .int(0)])
        let s2 = b.op("ReduceSum", [x], ["keepdims": .int(1)])
        try GradientCheck(graph: b.graph([m1, m2, s1, s2]), feeds: ["x": random.tensor([2, 3, 4, 5])], inputGradients: ["x"]).run()
    }

    struct PoolCase: CustomTestStringConvertible, Sendable {
        var op: String
        var attributes: [String: Attribute]
        var x: [Int] = [2, 3, 7, 6]
        var testDescription: String { "\(op) \(attributes.keys.sorted().map { "\($0)=\(attributes[$0]!)" }.joined(separator: " "))" }
    }

    static let pools: [PoolCase] = [
        PoolCase(op: "MaxPool", attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]),
        PoolCase(op: "MaxPool", attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)]),
        PoolCase(op: "MaxPool", attributes: ["kernel_shape": .ints([2, 3]), "dilations": .ints([2, 1])]),
        PoolCase(op: "MaxPool", attributes: ["kernel_shape": .ints([3]), "strides": .ints([2])], x: [2, 3, 9]),
        PoolCase(op: "AveragePool", attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]),
        PoolCase(op: "AveragePool", attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                                                 "count_include_pad": .int(1)]),
        PoolCase(op: "AveragePool", attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)]),
        PoolCase(op: "GlobalAveragePool", attributes: [:]),
        PoolCase(op: "GlobalMaxPool", attributes: [:]),
    ]

    @Test("pools", arguments: pools)
    func pool(_ c: PoolCase) throws {
        var random = TestRandom(seed: 71)
        var b = GraphBuilder()
        let x = b.input("x", c.x)
        let y = b.op(c.op, [x], c.attributes)
        try GradientCheck(graph: b.graph([y]), feeds: ["x": random.tensor(c.x)], inputGradients: ["x"]).run()
    }
}
