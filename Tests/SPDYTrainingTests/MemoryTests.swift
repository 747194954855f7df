import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYTraining

/// Activation lifetimes, through the executor's element counter: values nobody's backward reads
/// are freed after their last forward reader, saved ones after their earliest backward reader,
/// and evaluation passes keep nothing.
@Suite("Activation memory")
struct MemoryTests {
    static let shape = [4, 64]
    static var size: Int { shape.reduce(1, *) }

    /// x → MatMul(W) → `depth` × op, output the last.
    static func chain(_ op: String, depth: Int) -> (Graph, Tensor) {
        var random = TestRandom(seed: 1)
        var b = GraphBuilder()
        let x = b.input("x", shape)
        var v = b.op("MatMul", [x, b.initializer("w", random.tensor([64, 64], scale: 0.1))])
        let c = b.initializer("c", random.tensor([64]))
        for _ in 0..<depth { v = op == "Add" ? b.op("Add", [v, c]) : b.op(op, [v]) }
        return (b.graph([v]), random.tensor(shape))
    }

    /// Peak activation elements of a forward and backward pass, and what is held after each.
    func measure(_ graph: Graph, _ x: Tensor, differentiable: Bool = true) throws -> (peak: Int, afterForward: Int, afterBackward: Int, afterRelease: Int) {
        let executor = try TrainingExecutor(graph: graph)
        var afterForward = 0, afterBackward = 0
        do {
            let pass = try executor.forward(["x": x], differentiable: differentiable)
            afterForward = executor.activationStatistics.current
            if differentiable {
                let y = pass.value(graph.outputs[0].name)!
                try executor.backward(pass, seeds: [graph.outputs[0].name: y])
            }
            // Swift may end a lifetime after the last use: keep the pass until it is measured.
            afterBackward = withExtendedLifetime(pass) { executor.activationStatistics.current }
        }
        return (executor.activationStatistics.peak, afterForward, afterBackward, executor.activationStatistics.current)
    }

    @Test("a chain whose backward reads nothing holds a few activations at any depth")
    func nothingSaved() throws {
        for depth in [8, 64] {
            let (graph, x) = Self.chain("Add", depth: depth)
            let m = try measure(graph, x)
            // x (read by MatMul's dW) and the output, plus one value in flight.
            #expect(m.peak <= 3 * Self.size, "depth \(depth): peak \(m.peak)")
            #expect(m.afterBackward == Self.size && m.afterRelease == 0)
        }
    }

    @Test("a chain whose backward reads every output holds them all, and backward frees them")
    func everythingSaved() throws {
        let depth = 32
        let (graph, x) = Self.chain("Tanh", depth: depth)
        let m = try measure(graph, x)
        // x and the 32 tanh outputs (the last one is also the graph output).
        #expect(m.afterForward == (depth + 1) * Self.size)
        #expect(m.peak <= (depth + 2) * Self.size)
        #expect(m.afterBackward == Self.size, "only the output is left after backward")
        #expect(m.afterRelease == 0)
    }

    @Test("an evaluation pass keeps only its outputs")
    func evaluation() throws {
        let (graph, x) = Self.chain("Tanh", depth: 32)
        let m = try measure(graph, x, differentiable: false)
        #expect(m.peak <= 2 * Self.size)
        #expect(m.afterForward == Self.size && m.afterRelease == 0)
    }

    @Test("backward releases as it goes: the gradient buffers in flight stay bounded")
    func gradientsInFlight() throws {
        let (graph, x) = Self.chain("Tanh", depth: 32)
        let executor = try TrainingExecutor(graph: graph)
        let pass = try executor.forward(["x": x])
        executor.resetActivationPeaks()
        try executor.backward(pass, seeds: [graph.outputs[0].name: pass.value(graph.outputs[0].name)!])
        withExtendedLifetime(pass) {
            #expect(executor.activationStatistics.gradientPeak <= 2 * Self.size)
            #expect(executor.activationStatistics.peak == (32 + 1) * Self.size, "backward allocates no activations")
        }
    }
}
