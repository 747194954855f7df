import Testing
import SPDYEngine
import SPDYGraph
import SPDYTensor

/// The native Gather (embedding rows) and Where (mask) steps against the reference
/// interpreter, and a token id outside the table named as an error of its node.
struct IndexingStepTests {
    /// ids [2, 3] → Gather from a constant [5, 4] table; mask [2, 1, 1, 3] bool → Expand to
    /// [2, 1, 3, 3] → And with a constant [3, 1] → Where(·, 0, [3, 1] constant).
    static func graph() -> Graph {
        let table = Tensor(shape: [5, 4], floats: (0..<20).map { Float($0) * 0.25 - 2 })
        return Graph(
            name: "indexing",
            inputs: [ValueInfo(name: "ids", dataType: .int64, shape: [.fixed(2), .fixed(3)]),
                     ValueInfo(name: "keep", dataType: .bool, shape: [.fixed(2), .fixed(1), .fixed(1), .fixed(3)])],
            outputs: [ValueInfo(name: "rows", dataType: .float32, shape: nil), ValueInfo(name: "bias", dataType: .float32, shape: nil)],
            initializers: ["table": table, "zero": Tensor(scalar: 0), "low": Tensor(shape: [3, 1], floats: [-1e4, -2e4, -3e4]),
                           "shape": Tensor(int64s: [2, 1, 3, 3]), "allowed": Tensor(shape: [3, 1], bools: [true, true, false])],
            nodes: [Node(name: "Embed", opType: "Gather", inputs: ["table", "ids"], outputs: ["rows"]),
                    Node(name: "Expand", opType: "Expand", inputs: ["keep", "shape"], outputs: ["expanded"]),
                    Node(name: "And", opType: "And", inputs: ["expanded", "allowed"], outputs: ["wide"]),
                    Node(name: "Mask", opType: "Where", inputs: ["wide", "zero", "low"], outputs: ["bias"])],
            opsetVersion: 17)
    }

    @Test func gatherAndWhereEqualTheReference() throws {
        let graph = Self.graph()
        let feeds = ["ids": Tensor(shape: [2, 3], integers: [0, 4, -1, 2, 2, 1]),
                     "keep": Tensor(shape: [2, 1, 1, 3], bools: [true, false, true, false, true, true])]
        let plan = try ExecutionPlan(graph: graph)
        let kernels = plan.stepDescriptions.map(\.kernel)
        #expect(kernels.contains { $0.hasPrefix("Gather rows") } && kernels.contains { $0.hasPrefix("Where[") })
        #expect(kernels.contains { $0.hasPrefix("expand broadcast") } && kernels.contains { $0.hasPrefix("and broadcast") })
        let got = try plan.run(feeds), want = try ReferenceInterpreter.run(graph, feeds: feeds)
        #expect(got["rows"] == want["rows"])
        #expect(got["bias"] == want["bias"])
    }

    @Test func aTokenIdOutsideTheTableNamesTheNode() throws {
        let plan = try ExecutionPlan(graph: Self.graph())
        let feeds = ["ids": Tensor(shape: [2, 3], integers: [0, 5, 1, 2, 2, 1]),
                     "keep": Tensor(shape: [2, 1, 1, 3], bools: [true, true, true, true, true, true])]
        #expect {
            _ = try plan.run(feeds)
        } throws: { error in
            "\(error)".contains("Embed") && "\(error)".contains("5")
        }
    }
}
