import SPDYTensor

/// Shape inference with constant folding for concrete input shapes.
///
/// Walks the graph in topological order; a node whose inputs are all constant is evaluated with
/// its reference semantics (so shape arithmetic such as `Shape → Gather → Concat → Reshape`
/// becomes constant), otherwise its output types are inferred. The engine compiles from this.
public struct StaticAnalysis: Sendable {
    /// Type (and constant contents where known) of every value.
    public private(set) var values: [String: StaticValue]
    /// Node indices in execution order.
    public let order: [Int]

    /// Analyses `graph` with the given concrete shapes for inputs with symbolic dimensions.
    /// Inputs whose declared shapes are fully fixed need no entry.
    public init(_ graph: Graph, inputShapes: [String: [Int]] = [:], maxFoldedElements: Int = 1 << 24) throws {
        for name in inputShapes.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw GraphError.unknownInput(name: name, known: graph.inputs.map(\.name))
        }
        var values: [String: StaticValue] = [:]
        for (name, tensor) in graph.initializers { values[name] = StaticValue(constant: tensor) }
        for input in graph.inputs {
            if let given = inputShapes[input.name] {
                if let declared = input.shape {
                    guard declared.count == given.count,
                          zip(declared, given).allSatisfy({ $0.value == nil || $0.value == $1 }) else {
                        throw GraphError.shapeMismatch(node: "<input \(input.name)>", opType: "input",
                                                       reason: "given shape \(given) does not match declared \(declared)")
                    }
                }
                values[input.name] = StaticValue(type: ValueType(input.dataType, given))
            } else {
                guard let declared = input.shape, declared.allSatisfy({ $0.value != nil }) else {
                    throw GraphError.missingInputShape(name: input.name)
                }
                values[input.name] = StaticValue(type: ValueType(input.dataType, declared.map { $0.value! }))
            }
        }
        let order = try graph.topologicalOrder()
        for index in order {
            let node = graph.nodes[index]
            let semantics = try OperatorRegistry.semantics(for: node, opset: graph.opsetVersion)
            let inputs: [StaticValue?] = node.inputs.map { $0.isEmpty ? nil : values[$0] }
            let types = try semantics.inferTypes(node, inputs: inputs, opset: graph.opsetVersion)
            let present = inputs.compactMap { $0 }
            let allConstant = present.allSatisfy { $0.constant != nil }
            let small = types.allSatisfy { $0.count <= maxFoldedElements }
            var results: [Tensor]? = nil
            if allConstant && small {
                results = try semantics.evaluate(node, inputs: inputs.map { $0?.constant }, opset: graph.opsetVersion)
            } else {
                results = try semantics.staticOutputs(node, inputs: inputs, opset: graph.opsetVersion)
            }
            for (i, name) in node.outputs.enumerated() where !name.isEmpty && i < types.count {
                if let r = results?[i] {
                    guard r.shape == types[i].shape, r.dataType == types[i].dataType else {
                        throw GraphError.shapeMismatch(node: node.name, opType: node.opType,
                            reason: "inferred \(types[i]) but evaluation gave \(r.dataType)\(r.shape) (internal)")
                    }
                    values[name] = StaticValue(constant: r)
                } else {
                    values[name] = StaticValue(type: types[i])
                }
            }
        }
        self.values = values
        self.order = order
    }

    /// The type of `name`. Precondition: the value exists in the analysed graph.
    public func type(of name: String) -> ValueType {
        guard let v = values[name] else { preconditionFailure("no value '\(name)'") }
        return v.type
    }
}
