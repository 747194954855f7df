@testable import SPDYGraph
import SPDYTensor
import Testing

@Suite("Tensor operators in static analysis and the reference interpreter")
struct TensorOperatorAnalysisTests {
    /// x[2,3,4] → Reshape(x, Concat(Gather(init, 0), [-1])) → Transpose → Slice: shapes fold.
    func graph() -> Graph {
        let nodes = [
            Node(name: "g", opType: "Gather", inputs: ["dims", "zero"], outputs: ["d0"]),
            Node(name: "u", opType: "Unsqueeze", inputs: ["d0", "axes0"], outputs: ["d0v"]),
            Node(name: "c", opType: "Concat", inputs: ["d0v", "minusOne"], outputs: ["target"], attributes: ["axis": .int(0)]),
            Node(name: "r", opType: "Reshape", inputs: ["x", "target"], outputs: ["y"]),
            Node(name: "t", opType: "Transpose", inputs: ["y"], outputs: ["yt"]),
            Node(name: "s", opType: "Slice", inputs: ["yt", "start", "end"], outputs: ["z"]),
        ]
        return Graph(name: "shape-arith",
                     inputs: [ValueInfo(name: "x", dataType: .float32, shape: [.fixed(2), .fixed(3), .fixed(4)])],
                     outputs: [ValueInfo(name: "z", dataType: .float32, shape: nil)],
                     initializers: ["dims": i64(2, 3, 4), "zero": Tensor(shape: [], integers: [0]), "axes0": i64(0),
                                    "minusOne": i64(-1), "start": i64(1), "end": i64(3)],
                     nodes: nodes, opsetVersion: 13)
    }

    @Test func shapeArithmeticFoldsAndTypesFollow() throws {
        let analysis = try StaticAnalysis(graph())
        #expect(analysis.values["target"]?.constant == i64(2, -1))
        #expect(analysis.type(of: "y") == ValueType(.float32, [2, 12]))
        #expect(analysis.type(of: "yt") == ValueType(.float32, [12, 2]))
        #expect(analysis.type(of: "z") == ValueType(.float32, [2, 2]))
    }

    @Test func referenceInterpreterRunsTheGraph() throws {
        let out = try ReferenceInterpreter.run(graph(), feeds: ["x": iota([2, 3, 4])])
        // y = iota reshaped [2,12]; yt[i][j] = y[j][i] = 12j + i; rows 1..<3.
        #expect(out["z"] == Tensor(shape: [2, 2], floats: [1, 13, 2, 14]))
    }

    @Test func everyTensorOperatorIsRegistered() {
        for op in ["Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Shape", "Size", "Gather",
                   "GatherElements", "Cast", "CastLike", "Constant", "ConstantOfShape", "Expand", "Tile", "Slice",
                   "Dropout", "Split", "Range", "Pad", "Resize"] {
            #expect(OperatorRegistry.all[op] != nil, "\(op) is not registered")
        }
    }
}
