@testable import SPDYGraph
import SPDYTensor
import Testing

/// A node named "n" whose inputs are called in0, in1, … ("" where `inputs[i]` is nil).
func tensorNode(_ opType: String, inputs: [Tensor?], outputs: Int = 1, _ attributes: [String: Attribute] = [:]) -> Node {
    Node(name: "n", opType: opType,
         inputs: inputs.enumerated().map { $0.element == nil ? "" : "in\($0.offset)" },
         outputs: (0..<outputs).map { "out\($0)" }, attributes: attributes)
}

/// Evaluates `op` on `inputs` and checks that `inferTypes` predicts the result's types exactly,
/// with the inputs listed in `runtime` known only by type (the others as constants).
@discardableResult
func checked(_ op: any OperatorSemantics.Type, _ inputs: [Tensor?], outputs: Int = 1, opset: Int = 18,
             runtime: Set<Int> = [0], _ attributes: [String: Attribute] = [:],
             sourceLocation: SourceLocation = #_sourceLocation) throws -> [Tensor] {
    let node = tensorNode(op.opType, inputs: inputs, outputs: outputs, attributes)
    let results = try op.evaluate(node, inputs: inputs, opset: opset)
    let known: [StaticValue?] = inputs.enumerated().map { i, t in
        t.map { runtime.contains(i) ? StaticValue(type: ValueType($0.dataType, $0.shape)) : StaticValue(constant: $0) }
    }
    let types = try op.inferTypes(node, inputs: known, opset: opset)
    #expect(types == results.map { ValueType($0.dataType, $0.shape) }, sourceLocation: sourceLocation)
    return results
}

/// The single output of `checked`.
func checked1(_ op: any OperatorSemantics.Type, _ inputs: [Tensor?], opset: Int = 18, runtime: Set<Int> = [0],
              _ attributes: [String: Attribute] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> Tensor {
    try checked(op, inputs, opset: opset, runtime: runtime, attributes, sourceLocation: sourceLocation)[0]
}

/// Evaluation only (for error cases).
func evaluated(_ op: any OperatorSemantics.Type, _ inputs: [Tensor?], outputs: Int = 1, opset: Int = 18,
               _ attributes: [String: Attribute] = [:]) throws -> [Tensor] {
    try op.evaluate(tensorNode(op.opType, inputs: inputs, outputs: outputs, attributes), inputs: inputs, opset: opset)
}

/// Type inference only, with inputs in `runtime` unknown at compile time.
func inferred(_ op: any OperatorSemantics.Type, _ inputs: [Tensor?], outputs: Int = 1, opset: Int = 18,
              runtime: Set<Int> = [0], _ attributes: [String: Attribute] = [:]) throws -> [ValueType] {
    let known: [StaticValue?] = inputs.enumerated().map { i, t in
        t.map { runtime.contains(i) ? StaticValue(type: ValueType($0.dataType, $0.shape)) : StaticValue(constant: $0) }
    }
    return try op.inferTypes(tensorNode(op.opType, inputs: inputs, outputs: outputs, attributes), inputs: known, opset: opset)
}

/// A float tensor holding 0, 1, 2, … in `shape`.
func iota(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, floats: (0..<Tensor.elementCount(shape)).map(Float.init))
}

/// A 1-D int64 tensor.
func i64(_ values: Int64...) -> Tensor { Tensor(int64s: values) }

/// `Int64` extremes as used by exporters for "to the end".
let int64Max = Int64.max, int64Min = Int64.min
