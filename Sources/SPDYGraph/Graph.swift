import SPDYTensor

/// The intermediate representation every importer produces and every later stage consumes:
/// a dataflow graph of ONNX-style operators over named values.
///
/// Layouts follow ONNX: activations NCHW, convolution weights OIHW, Gemm weights as declared by
/// `transB`, MatMul weights `[in, out]`.
public struct Graph: Sendable {
    /// The graph's name.
    public var name: String
    /// Runtime inputs (initializers are not listed here).
    public var inputs: [ValueInfo]
    /// Outputs, in order.
    public var outputs: [ValueInfo]
    /// Constant tensors by name (weights, shapes, …).
    public var initializers: [String: Tensor]
    /// Nodes, in the order the source listed them (not necessarily topological).
    public var nodes: [Node]
    /// Opset version of the default ONNX domain the graph was written against.
    public var opsetVersion: Int
    /// Free-form provenance (producer, source file), carried into exports.
    public var metadata: [String: String]

    public init(name: String, inputs: [ValueInfo], outputs: [ValueInfo], initializers: [String: Tensor],
                nodes: [Node], opsetVersion: Int, metadata: [String: String] = [:]) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.nodes = nodes
        self.opsetVersion = opsetVersion
        self.metadata = metadata
    }

    /// The index of the node producing each value.
    public var producers: [String: Int] {
        var map: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for out in node.outputs where !out.isEmpty { map[out] = i }
        }
        return map
    }

    /// For each value, the indices of the nodes that read it.
    public var consumers: [String: [Int]] {
        var map: [String: [Int]] = [:]
        for (i, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { map[input, default: []].append(i) }
        }
        return map
    }

    /// Node indices in a topological order (stable: source order where possible).
    /// Throws on undefined values, values defined twice, and cycles.
    public func topologicalOrder() throws -> [Int] {
        var defined = Set(inputs.map(\.name)).union(initializers.keys)
        var producer: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for out in node.outputs where !out.isEmpty {
                if producer[out] != nil || inputs.contains(where: { $0.name == out }) {
                    throw GraphError.duplicateDefinition(value: out)
                }
                producer[out] = i
            }
        }
        for (i, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && producer[input] == nil && !defined.contains(input) {
                throw GraphError.undefinedValue(node: nodes[i].name, value: input)
            }
        }
        var remaining = nodes.map { node in node.inputs.filter { !$0.isEmpty && producer[$0] != nil }.count }
        var consumers: [Int: [Int]] = [:]
        for (i, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty {
                if let p = producer[input] { consumers[p, default: []].append(i) }
            }
        }
        // Kahn's algorithm with a min-heap substitute: a sorted ready list keeps source order.
        var ready = (0..<nodes.count).filter { remaining[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(i)
            for out in nodes[i].outputs where !out.isEmpty { defined.insert(out) }
            var newlyReady: [Int] = []
            for c in consumers[i] ?? [] {
                remaining[c] -= 1
                if remaining[c] == 0 { newlyReady.append(c) }
            }
            if !newlyReady.isEmpty {
                ready.append(contentsOf: newlyReady)
                ready.sort(by: >)
            }
        }
        guard order.count == nodes.count else {
            let stuck = (0..<nodes.count).filter { remaining[$0] > 0 }.map { nodes[$0].name }
            throw GraphError.cycle(nodes: stuck)
        }
        return order
    }

    /// Checks structure: every value defined exactly once, no cycles, outputs produced.
    public func validate() throws {
        _ = try topologicalOrder()
        let available = Set(inputs.map(\.name)).union(initializers.keys).union(nodes.flatMap(\.outputs))
        for output in outputs where !available.contains(output.name) {
            throw GraphError.undefinedValue(node: "<graph output>", value: output.name)
        }
    }

    /// Returns the graph with nodes reordered topologically.
    public func sortedTopologically() throws -> Graph {
        var copy = self
        copy.nodes = try topologicalOrder().map { nodes[$0] }
        return copy
    }
}
