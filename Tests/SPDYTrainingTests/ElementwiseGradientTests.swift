import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYTraining

/// Gradients of the elementwise operators: activations alone, and the four arithmetic
/// operators, Pow and Where with broadcasting (the gradient summed over broadcast axes).
@Suite("Elementwise gradients")
struct ElementwiseGradientTests {
    struct Unary: CustomTestStringConvertible, Sendable {
        var op: String
        var attributes: [String: Attribute] = [:]
        /// Input range: normal(0, 1.5) unless positive inputs are needed.
        var positive = false
        var testDescription: String { op }
    }

    static let unary: [Unary] = [
        Unary(op: "Relu"), Unary(op: "LeakyRelu", attributes: ["alpha": .float(0.1)]), Unary(op: "Sigmoid"),
        Unary(op: "HardSigmoid", attributes: ["alpha": .float(0.3), "beta": .float(0.4)]), Unary(op: "HardSwish"),
        Unary(op: "Tanh"), Unary(op: "Erf"), Unary(op: "Exp"), Unary(op: "Log", positive: true),
        Unary(op: "Sqrt", positive: true), Unary(op: "Reciprocal", positive: true), Unary(op: "Neg"), Unary(op: "Abs"),
        Unary(op: "Clip", attributes: [:]), Unary(op: "Identity"),
    ]

    @Test("activations: input gradient", arguments: unary)
    func activation(_ u: Unary) throws {
        var random = TestRandom(seed: UInt64(u.op.utf8.count) * 977)
        var b = GraphBuilder()
        let x = b.input("x", [3, 5, 7])
        var inputs = [x]
        if u.op == "Clip" { inputs += [b.initializer("lo", Tensor(scalar: -0.5)), b.initializer("hi", Tensor(scalar: 0.8))] }
        let y = b.op(u.op, inputs, u.attributes)
        let feed = u.positive ? random.uniform([3, 5, 7], 0.2, 3) : random.tensor([3, 5, 7], scale: 1.5)
        try GradientCheck(graph: b.graph([y]), feeds: ["x": feed], inputGradients: ["x"]).run()
    }

    struct Binary: CustomTestStringConvertible, Sendable {
        var op: String
        var a: [Int], b: [Int]
        var testDescription: String { "\(op) \(a) \(b)" }
    }

    static let binary: [Binary] = ["Add", "Sub", "Mul", "Div"].flatMap { op in
        [Binary(op: op, a: [2, 3, 4], b: [2, 3, 4]), Binary(op: op, a: [2, 3, 4], b: [3, 1]), Binary(op: op, a: [1], b: [2, 3, 4]),
         Binary(op: op, a: [2, 1, 4], b: [3, 1]), Binary(op: op, a: [], b: [5, 2]), Binary(op: op, a: [4, 1, 3, 1], b: [1, 5, 1, 2])]
    }

    @Test("arithmetic with broadcasting: both input gradients", arguments: binary)
    func arithmetic(_ c: Binary) throws {
        var random = TestRandom(seed: UInt64(c.a.count * 17 + c.b.count * 5 + c.op.utf8.count))
        var b = GraphBuilder()
        let a = b.input("a", c.a), bb = b.input("b", c.b)
        let y = b.op(c.op, [a, bb])
        let denominator = c.op == "Div" ? random.uniform(c.b, 0.5, 2) : random.tensor(c.b)
        try GradientCheck(graph: b.graph([y]), feeds: ["a": random.tensor(c.a), "b": denominator], inputGradients: ["a", "b"]).run()
    }

    @Test("a bias and a per-channel scale as parameters (summed over the batch)")
    func parameters() throws {
        var random = TestRandom(seed: 3)
        var b = GraphBuilder()
        let x = b.input("x", [4, 3, 5])
        let mm = b.op("MatMul", [x, b.initializer("w", random.tensor([5, 6]))])
        let biased = b.op("Add", [b.initializer("bias", random.tensor([6])), mm])
        let scaled = b.op("Mul", [biased, b.initializer("scale", random.tensor([3, 1]))])
        let shifted = b.op("Sub", [scaled, b.initializer("shift", random.tensor([1, 6]))])
        let divided = b.op("Div", [shifted, b.initializer("div", random.uniform([6], 1, 2))])
        try GradientCheck(graph: b.graph([divided]), feeds: ["x": random.tensor([4, 3, 5])], inputGradients: ["x"]).run()
    }

    @Test("Pow with constant exponents", arguments: [2.0, 0.5, 3.0, -1.5, 1.0])
    func power(_ p: Double) throws {
        var random = TestRandom(seed: UInt64(p * 10 + 100))
        var b = GraphBuilder()
        let x = b.input("x", [3, 4])
        let y = b.op("Pow", [x, b.initializer("p", Tensor(scalar: Float(p)))])
        let feed = p == 2 || p == 3 || p == 1 ? random.tensor([3, 4]) : random.uniform([3, 4], 0.3, 2)
        try GradientCheck(graph: b.graph([y]), feeds: ["x": feed], inputGradients: ["x"]).run()
    }

    @Test("Pow with a broadcast exponent tensor")
    func powerTensor() throws {
        var random = TestRandom(seed: 5)
        var b = GraphBuilder()
        let x = b.input("x", [3, 4])
        let y = b.op("Pow", [x, b.initializer("p", Tensor(shape: [4], floats: [1, 2, 0.5, 3]))])
        try GradientCheck(graph: b.graph([y]), feeds: ["x": random.uniform([3, 4], 0.3, 2)], inputGradients: ["x"]).run()
    }

    @Test("Where with a computed condition and broadcast branches")
    func whereOp() throws {
        var random = TestRandom(seed: 9)
        var b = GraphBuilder()
        let x = b.input("x", [2, 3, 4]), y = b.input("y", [3, 1])
        let condition = b.op("Greater", [x, b.initializer("zero", Tensor(scalar: 0.1))])
        let out = b.op("Where", [condition, x, y])
        try GradientCheck(graph: b.graph([out]), feeds: ["x": random.tensor([2, 3, 4]), "y": random.tensor([3, 1])],
                          inputGradients: ["x", "y"]).run()
    }
}
