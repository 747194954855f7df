import Foundation
import SPDYTensor

/// ONNX `BatchNormalization` in inference mode (opsets 9, 14, 15):
/// `Y = (X − mean) / sqrt(var + epsilon) · scale + B` per channel (axis 1).
///
/// Training mode is not supported: from opset 14 `training_mode` must be 0, and the optional
/// running/saved statistics outputs (training only) must not be requested. `momentum` is ignored.
enum BatchNormalizationOp: OperatorSemantics {
    static let opType = "BatchNormalization"

    static func check(_ node: Node, _ types: [ValueType], opset: Int) throws {
        if opset >= 14, try node.int("training_mode", default: 0) != 0 {
            throw GraphError.badAttribute(node: node.name, opType: node.opType, attribute: "training_mode",
                                          reason: "training mode is not supported (inference only)")
        }
        try rejectOutputs(node, from: 1, "only output Y is supported: mean/variance outputs exist in training mode only")
        let x = types[0]
        try requireFloat(node, x, "X")
        guard x.shape.count >= 2 else { throw shapeError(node, "X must have rank ≥ 2 (N, C, …), got \(x.shape)") }
        let c = x.shape[1]
        for (i, name) in ["scale", "B", "input_mean", "input_var"].enumerated() {
            try requireFloat(node, types[i + 1], name)
            guard types[i + 1].shape == [c] else { throw shapeError(node, "\(name) \(types[i + 1].shape) must have shape [\(c)]") }
        }
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let types = try (0..<5).map { try required(inputs, $0, node).type }
        try check(node, types, opset: opset)
        return [types[0]]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let ts = try (0..<5).map { try required(inputs, $0, node) }
        try check(node, ts.map { ValueType($0.dataType, $0.shape) }, opset: opset)
        let epsilon = Double(try node.float("epsilon", default: 1e-5))
        let x = ts[0], c = x.shape[1]
        let scale = ts[1].floats, bias = ts[2].floats, mean = ts[3].floats, variance = ts[4].floats
        let inner = Tensor.elementCount(Array(x.shape[2...]))
        let xv = x.floats
        var y = [Float](repeating: 0, count: xv.count)
        for i in 0..<xv.count {
            let ch = (i / inner) % c
            let normalized = (Double(xv[i]) - Double(mean[ch])) / (Double(variance[ch]) + epsilon).squareRoot()
            y[i] = Float(normalized * Double(scale[ch]) + Double(bias[ch]))
        }
        return [Tensor(shape: x.shape, floats: y)]
    }
}
