import SPDYTensor

/// Runs a graph with every operator's reference semantics: slow and obviously correct, the twin
/// the engine is checked against on small graphs (and the ONNX operator test cases).
public enum ReferenceInterpreter {
    /// Evaluates `graph` on `feeds` (input name → tensor) and returns its outputs by name.
    public static func run(_ graph: Graph, feeds: [String: Tensor]) throws -> [String: Tensor] {
        var env = graph.initializers
        for input in graph.inputs {
            guard let t = feeds[input.name] else { throw GraphError.missingInputShape(name: input.name) }
            env[input.name] = t
        }
        for index in try graph.topologicalOrder() {
            let node = graph.nodes[index]
            let semantics = try OperatorRegistry.semantics(for: node, opset: graph.opsetVersion)
            let inputs: [Tensor?] = node.inputs.map { $0.isEmpty ? nil : env[$0] }
            let outputs = try semantics.evaluate(node, inputs: inputs, opset: graph.opsetVersion)
            for (name, value) in zip(node.outputs, outputs) where !name.isEmpty { env[name] = value }
        }
        var result: [String: Tensor] = [:]
        for output in graph.outputs {
            guard let t = env[output.name] else { throw GraphError.undefinedValue(node: "<graph output>", value: output.name) }
            result[output.name] = t
        }
        return result
    }
}
