import Testing
@testable import SPDYGraph
import SPDYTensor

/// A node of `opType` reading inputs "in0…" (empty names where `omit` says) and writing "out0…".
func nnNode(_ opType: String, inputs: Int, outputs: Int = 1, omit: Set<Int> = [],
            _ attributes: [String: Attribute] = [:]) -> Node {
    Node(name: "n_\(opType)", opType: opType,
         inputs: (0..<inputs).map { omit.contains($0) ? "" : "in\($0)" },
         outputs: (0..<outputs).map { "out\($0)" }, attributes: attributes)
}

/// Evaluates `node` through the registry and checks that `inferTypes` predicts exactly the
/// evaluated types (inputs given to inference as constants and, separately, as types only).
func nnEvaluate(_ node: Node, _ inputs: [Tensor?], opset: Int = 17,
                sourceLocation: SourceLocation = #_sourceLocation) throws -> [Tensor] {
    let op = try OperatorRegistry.semantics(for: node, opset: opset)
    let results = try op.evaluate(node, inputs: inputs, opset: opset)
    let constants = inputs.map { $0.map { StaticValue(constant: $0) } }
    let inferred = try op.inferTypes(node, inputs: constants, opset: opset)
    #expect(inferred == results.map { ValueType($0.dataType, $0.shape) }, sourceLocation: sourceLocation)
    // Without constants (where the operator does not need one: index 0 is always a data input).
    var typesOnly = constants
    if !typesOnly.isEmpty, let first = typesOnly[0] { typesOnly[0] = StaticValue(type: first.type) }
    let inferred2 = try op.inferTypes(node, inputs: typesOnly, opset: opset)
    #expect(inferred2 == inferred, sourceLocation: sourceLocation)
    return results
}

/// Infers types only, with the given input types (no constants).
func nnInfer(_ node: Node, _ types: [ValueType?], opset: Int = 17) throws -> [ValueType] {
    let op = try OperatorRegistry.semantics(for: node, opset: opset)
    return try op.inferTypes(node, inputs: types.map { $0.map { StaticValue(type: $0) } }, opset: opset)
}

/// Elementwise closeness: |a − b| ≤ absolute + relative·|b| (explicit tolerances, never `==`).
func nnClose(_ a: [Float], _ b: [Float], absolute: Float = 1e-5, relative: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in
        (x.isNaN && y.isNaN) || Swift.abs(x - y) <= absolute + relative * Swift.abs(y)
    }
}

/// Deterministic pseudo-random floats in [−1, 1) (SplitMix64), for comparisons with formulas.
func nnRandom(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 23) - 1
    }
}

/// A float tensor 1, 2, 3, … of `shape`.
func nnIota(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, floats: (0..<Tensor.elementCount(shape)).map { Float($0 + 1) })
}
