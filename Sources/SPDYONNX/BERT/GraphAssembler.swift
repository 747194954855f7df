import SPDYGraph
import SPDYTensor

/// A small helper that appends ONNX nodes and constants to a node list, naming each output after
/// its node (`<node>_output_0`), so builders read as a sequence of operator calls.
struct GraphAssembler {
    var nodes: [Node] = []
    var initializers: [String: Tensor] = [:]
    /// Names already used by a node, to keep node names unique.
    private var nodeNames: Set<String> = []

    init(existing graph: Graph? = nil) {
        if let graph {
            nodes = graph.nodes
            initializers = graph.initializers
            nodeNames = Set(graph.nodes.map(\.name))
        }
    }

    /// Appends a node of `opType` named `name` and returns its single output's value name
    /// (`output` when given, else `<name>_output_0`).
    @discardableResult
    mutating func add(_ opType: String, _ inputs: [String], name: String,
                      attributes: [String: Attribute] = [:], output: String? = nil) -> String {
        precondition(!nodeNames.contains(name), "node name '\(name)' used twice")
        nodeNames.insert(name)
        let out = output ?? "\(name)_output_0"
        nodes.append(Node(name: name, opType: opType, inputs: inputs, outputs: [out], attributes: attributes))
        return out
    }

    /// Registers a constant initializer (shared when the same name is registered again with the
    /// same value) and returns its name.
    @discardableResult
    mutating func constant(_ name: String, _ value: Tensor) -> String {
        if let existing = initializers[name] {
            precondition(existing == value, "constant '\(name)' registered with two values")
        }
        initializers[name] = value
        return name
    }

    /// A float scalar constant.
    mutating func scalar(_ name: String, _ value: Float) -> String { constant(name, Tensor(scalar: value)) }

    /// A 1-D int64 constant (shapes, axes, indices).
    mutating func int64s(_ name: String, _ values: [Int64]) -> String { constant(name, Tensor(int64s: values)) }
}
