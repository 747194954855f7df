import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYTraining

/// Gradients of the data-movement operators, and forward agreement with their reference
/// semantics (the attribute parsing is the executor's own).
@Suite("Layout gradients")
struct LayoutGradientTests {
    /// Checks `build(builder, x)` on an input of `shape` (with a parameter-free graph the input
    /// gradient is what is checked).
    func check(_ shape: [Int], opset: Int = 17, seed: UInt64 = 1, _ build: (inout GraphBuilder, String) -> [String],
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        var random = TestRandom(seed: seed)
        var b = GraphBuilder(opset: opset)
        let x = b.input("x", shape)
        let outputs = build(&b, x)
        try GradientCheck(graph: b.graph(outputs), feeds: ["x": random.tensor(shape)], inputGradients: ["x"]).run(sourceLocation: sourceLocation)
    }

    @Test("Reshape, Flatten, Squeeze, Unsqueeze")
    func reshapes() throws {
        try check([2, 3, 1, 4], opset: 13) { b, x in
            let r = b.op("Reshape", [x, b.ints([4, -1])])
            let f = b.op("Flatten", [x], ["axis": .int(2)])
            let s = b.op("Squeeze", [x, b.ints([2])])
            let u = b.op("Unsqueeze", [s, b.ints([0, -1])])
            return [r, f, u]
        }
    }

    @Test("Transpose")
    func transpose() throws {
        try check([2, 3, 4, 5]) { b, x in
            [b.op("Transpose", [x], ["perm": .ints([0, 2, 1, 3])]), b.op("Transpose", [x], ["perm": .ints([3, 1, 0, 2])]), b.op("Transpose", [x])]
        }
    }

    @Test("Concat of an input, itself transformed and a parameter")
    func concat() throws {
        var random = TestRandom(seed: 2)
        try check([2, 3, 4]) { b, x in
            let p = b.initializer("p", random.tensor([2, 2, 4]))
            return [b.op("Concat", [x, b.op("Neg", [x]), p], ["axis": .int(1)]), b.op("Concat", [x, x], ["axis": .int(-1)])]
        }
    }

    @Test("Split into unequal parts, one unused")
    func split() throws {
        try check([2, 7, 3], opset: 13) { b, x in
            let parts = b.node("Split", [x, b.ints([2, 4, 1])], outputs: 3, ["axis": .int(1)])
            return [parts[0], b.op("Sigmoid", [parts[2]])]
        }
    }

    @Test("Slice: negative starts, steps, clamping")
    func slice() throws {
        try check([4, 6, 5]) { b, x in
            let a = b.op("Slice", [x, b.ints([1, -5]), b.ints([3, 100]), b.ints([0, 1])])
            let c = b.op("Slice", [x, b.ints([-1, 4]), b.ints([-100, 0]), b.ints([1, 2]), b.ints([-2, -1])])
            let d = b.op("Slice", [x, b.ints([0]), b.ints([5]), b.ints([2]), b.ints([2])])
            return [a, c, d]
        }
    }

    @Test("Expand and Tile")
    func expandTile() throws {
        try check([3, 1, 2]) { b, x in
            [b.op("Expand", [x, b.ints([2, 3, 4, 2])]), b.op("Tile", [x, b.ints([2, 3, 2])])]
        }
    }

    @Test("Pad: constant mode, positive and negative pads, a fill value")
    func pad() throws {
        try check([2, 3, 4, 5]) { b, x in
            let p1 = b.op("Pad", [x, b.ints([0, 0, 1, 2, 0, 0, 2, 1])])
            let p2 = b.op("Pad", [x, b.ints([0, 1, -1, 0, 0, -1, 1, -2]), b.initializer("fill", Tensor(shape: [], floats: [0.5]))])
            return [p1, p2]
        }
    }

    @Test("Gather: an embedding table at computed indices, a constant index list, a scalar index")
    func gather() throws {
        var random = TestRandom(seed: 5)
        var b = GraphBuilder()
        let ids = b.input("ids", [2, 3], .int64)
        let table = b.initializer("table", random.tensor([6, 4]))
        let rows = b.op("Gather", [table, ids])
        let x = b.input("x", [3, 5, 2])
        let picked = b.op("Gather", [x, b.ints([4, 0, -1, 4])], ["axis": .int(1)])
        let one = b.op("Gather", [x, b.ints([1], shape: [])], ["axis": .int(0)])
        let idsFeed = Tensor(shape: [2, 3], integers: [1, 5, 1, 0, 3, 1])
        try GradientCheck(graph: b.graph([rows, picked, one]), feeds: ["ids": idsFeed, "x": random.tensor([3, 5, 2])],
                          inputGradients: ["x"]).run()
    }
}
