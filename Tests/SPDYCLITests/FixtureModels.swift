import SPDYGraph
import SPDYONNX
import SPDYTensor

/// Small models built in the tests and exported with our exporter.
enum FixtureModels {
    /// A graph with one node of an operator nobody implements.
    static func unsupportedOperatorModel() throws -> [UInt8] {
        let graph = Graph(name: "custom", inputs: [ValueInfo(name: "x", dataType: .float32, shape: [.fixed(1), .fixed(4)])],
                          outputs: [ValueInfo(name: "y", dataType: .float32, shape: [.fixed(1), .fixed(4)])],
                          initializers: [:],
                          nodes: [Node(name: "frob_node", opType: "Frobnicate", inputs: ["x"], outputs: ["y"])],
                          opsetVersion: 17)
        return try ONNXModel.encode(graph)
    }
}
