import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYTraining

/// The executor's contract beyond single operators: hooks at intermediate values, parameter
/// discovery, activation lifetimes, errors.
@Suite("Training executor")
struct ExecutorTests {
    /// x → Conv → Relu → Conv → Relu → Conv; the three conv outputs are the layer outputs.
    static func threeConvolutions(seed: UInt64 = 1) -> (Graph, [String], Tensor) {
        var random = TestRandom(seed: seed)
        var b = GraphBuilder()
        let x = b.input("x", [2, 3, 6, 6])
        let pads: [String: Attribute] = ["pads": .ints([1, 1, 1, 1])]
        let c1 = b.op("Conv", [x, b.initializer("c1.w", random.tensor([4, 3, 3, 3], scale: 0.3)), b.initializer("c1.b", random.tensor([4]))], pads)
        let c2 = b.op("Conv", [b.op("Relu", [c1]), b.initializer("c2.w", random.tensor([4, 4, 3, 3], scale: 0.3))], pads)
        let c3 = b.op("Conv", [b.op("Relu", [c2]), b.initializer("c3.w", random.tensor([2, 4, 1, 1], scale: 0.3))])
        return (b.graph([c3]), [c1, c2, c3], random.tensor([2, 3, 6, 6]))
    }

    @Test("losses at intermediate layer outputs: gradients against central differences")
    func intermediateSeeds() throws {
        let (graph, layers, x) = Self.threeConvolutions()
        try GradientCheck(graph: graph, feeds: ["x": x], inputGradients: ["x"], retained: [layers[0], layers[1]]).run()
    }

    @Test("a seed at one layer's output reaches only the parameters before it")
    func seedReach() throws {
        let (graph, layers, x) = Self.threeConvolutions()
        let executor = try TrainingExecutor(graph: graph)
        let pass = try executor.forward(["x": x], retaining: [layers[0]])
        let c1 = try #require(pass.value(layers[0]))
        try executor.backward(pass, seeds: [layers[0]: Tensor(shape: c1.shape, floats: [Float](repeating: 1, count: c1.count))])
        #expect(executor.parameters.gradient("c2.w")!.floats.allSatisfy { $0 == 0 })
        #expect(executor.parameters.gradient("c3.w")!.floats.allSatisfy { $0 == 0 })
        // dL/db1 for L = Σ c1 is the number of positions per channel: 2 images × 36.
        #expect(executor.parameters.gradient("c1.b")!.floats.allSatisfy { abs($0 - 72) < 1e-3 })
    }

    @Test("seeds add up: one backward with two seeds equals two backward passes")
    func seedLinearity() throws {
        let (graph, layers, x) = Self.threeConvolutions()
        var random = TestRandom(seed: 3)
        let executor = try TrainingExecutor(graph: graph)
        let shapes = try executor.forward(["x": x], retaining: Set(layers), differentiable: false)
        let s1 = random.tensor(shapes.value(layers[1])!.shape), s3 = random.tensor(shapes.value(layers[2])!.shape)
        try executor.backward(try executor.forward(["x": x], retaining: [layers[1]]), seeds: [layers[1]: s1, layers[2]: s3])
        let together = executor.parameters.gradient("c1.w")!.floats
        executor.parameters.zeroGradients()
        try executor.backward(try executor.forward(["x": x], retaining: [layers[1]]), seeds: [layers[1]: s1])
        try executor.backward(try executor.forward(["x": x], retaining: [layers[1]]), seeds: [layers[2]: s3])
        let separately = executor.parameters.gradient("c1.w")!.floats
        let scale = together.map(abs).max()!
        #expect(zip(together, separately).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
    }

    @Test("parameter roles: weights, biases, BatchNorm affine and statistics; scalars and integers are not parameters")
    func roles() throws {
        var random = TestRandom(seed: 4)
        var b = GraphBuilder(opset: 13)
        let x = b.input("x", [2, 3, 4, 4])
        let c = b.op("Conv", [x, b.initializer("w", random.tensor([2, 3, 1, 1])), b.initializer("b", random.tensor([2]))])
        let bn = b.op("BatchNormalization", [c, b.initializer("g", random.tensor([2])), b.initializer("beta", random.tensor([2])),
                                             b.initializer("mean", random.tensor([2])), b.initializer("var", random.uniform([2], 1, 2))])
        let half = b.op("Mul", [bn, b.initializer("half", Tensor(scalar: 0.5))])
        let r = b.op("Reshape", [half, b.ints([2, -1])])
        let fc = b.op("MatMul", [r, b.op("Transpose", [b.initializer("fc", random.tensor([3, 32]))])])
        let graph = b.graph([fc])
        #expect(ParameterDiscovery.roles(in: graph) == ["w": .weight, "b": .bias, "g": .normalization, "beta": .normalization,
                                                         "mean": .statistic, "var": .statistic, "fc": .weight])
        let executor = try TrainingExecutor(graph: graph, options: TrainingOptions(selection: ParameterSelection(excluded: ["b"])))
        #expect(executor.parameters.trainableNames == ["beta", "fc", "g", "w"])
        // The weight stored transposed (fc → Transpose → MatMul) trains through the Transpose.
        let pass = try executor.forward(["x": random.tensor([2, 3, 4, 4])])
        try executor.backward(pass, seeds: [fc: random.tensor([2, 3])])
        #expect(executor.parameters.gradient("fc")!.floats.contains { $0 != 0 })
        #expect(executor.parameters.gradient("b")!.floats.allSatisfy { $0 == 0 })
    }

    @Test("an operator without a gradient on a gradient path is an error naming node, type and opset")
    func unsupported() throws {
        var random = TestRandom(seed: 5)
        var b = GraphBuilder()
        let x = b.input("x", [2, 4])
        let y = b.op("MatMul", [x, b.initializer("w", random.tensor([4, 3]))])
        let z = b.op("ReduceMax", [y], ["axes": .ints([1])])
        let executor = try TrainingExecutor(graph: b.graph([z]))
        #expect(throws: TrainingError.unsupportedOperator(node: "ReduceMax_2", opType: "ReduceMax", opset: 17,
                                                          reason: "no backward rule for this operator (it lies on a gradient path)")) {
            _ = try executor.forward(["x": random.tensor([2, 4])])
        }
        // An evaluation pass needs no gradient and runs it with its reference semantics.
        let out = try executor.forward(["x": random.tensor([2, 4])], differentiable: false)
        #expect(out.value(z)?.shape == [2, 1])
    }

    @Test("feeds are checked")
    func feeds() throws {
        let (graph, _, x) = Self.threeConvolutions()
        let executor = try TrainingExecutor(graph: graph)
        #expect(throws: TrainingError.self) { _ = try executor.forward([:]) }
        #expect(throws: TrainingError.self) { _ = try executor.forward(["x": x, "y": x]) }
        #expect(throws: TrainingError.self) { _ = try executor.forward(["x": Tensor(shape: [2], integers: [1, 2])]) }
        let pass = try executor.forward(["x": x])
        #expect(throws: TrainingError.self) { try executor.backward(pass, seeds: ["nope": x]) }
        try executor.backward(pass, seeds: [:])
        #expect(throws: TrainingError.self) { try executor.backward(pass, seeds: [:]) }
    }

    @Test("trainedGraph writes the current values back")
    func trainedGraph() throws {
        let (graph, _, _) = Self.threeConvolutions()
        let executor = try TrainingExecutor(graph: graph)
        try executor.parameters.setValue("c1.b", Tensor(shape: [4], floats: [1, 2, 3, 4]))
        #expect(executor.trainedGraph().initializers["c1.b"]?.floats == [1, 2, 3, 4])
        #expect(executor.trainedGraph().initializers["c2.w"] == graph.initializers["c2.w"])
    }
}
