import SPDYTensor

/// Shared checks for the windowed pools on X [N, C, D1…].
protocol WindowPoolOperator: OperatorSemantics {
    /// The combining mode configured from the node.
    static func mode(_ node: Node) throws -> ReferenceMath.PoolMode
    /// Whether the operator takes `dilations` in opsets 11–18.
    static var allowsDilations: Bool { get }
    /// Element types besides float32 accepted at `opset` (MaxPool: int8, uint8 from 12).
    static func integerTypes(opset: Int) -> Set<DataType>
}

extension WindowPoolOperator {
    static func integerTypes(opset: Int) -> Set<DataType> { [] }

    static func geometry(_ node: Node, _ x: ValueType, opset: Int) throws -> WindowGeometry {
        if !integerTypes(opset: opset).contains(x.dataType) { try requireFloat(node, x, "X") }
        guard x.shape.count >= 3 else { throw shapeError(node, "X must have rank ≥ 3 (N, C, spatial…), got \(x.shape)") }
        guard let kernel = try node.ints("kernel_shape") else {
            throw GraphError.missingAttribute(node: node.name, opType: node.opType, attribute: "kernel_shape")
        }
        return try WindowGeometry.resolve(self, node, spatial: Array(x.shape[2...]), kernel: kernel,
                                          allowDilations: allowsDilations, allowCeilMode: true)
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node).type
        try rejectOutputs(node, from: 1, "the Indices output is not supported")
        let g = try geometry(node, x, opset: opset)
        _ = try mode(node)
        return [ValueType(x.dataType, Array(x.shape[..<2]) + g.output)]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        try rejectOutputs(node, from: 1, "the Indices output is not supported")
        let g = try geometry(node, ValueType(x.dataType, x.shape), opset: opset)
        // int8/uint8 values are exact in float32, and the max of a window is one of its elements.
        let y = ReferenceMath.pool(input: x.dataType == .float32 ? x : x.cast(to: .float32), mode: try mode(node),
                                   kernel: g.kernel, strides: g.strides, padsBegin: g.padsBegin, padsEnd: g.padsEnd,
                                   dilations: g.dilations, ceilMode: g.ceilMode)
        return [x.dataType == .float32 ? y : onnxCast(y, to: x.dataType)]
    }
}

/// ONNX `MaxPool` (opsets 11, 12, 22; float32, and int8/uint8 from 12): the largest element per
/// window, padding ignored.
/// Attributes `kernel_shape`, `strides`, `pads`, `dilations`, `ceil_mode`, `auto_pad`;
/// `storage_order` only affects Indices, whose output is not supported (requesting it throws).
enum MaxPoolOp: WindowPoolOperator {
    static let opType = "MaxPool"
    static let allowsDilations = true
    static func integerTypes(opset: Int) -> Set<DataType> { opset >= 12 ? [.int8, .uint8] : [] }
    static func mode(_ node: Node) throws -> ReferenceMath.PoolMode { .max }
}

/// ONNX `AveragePool` (opsets 11–18; float32): the window mean, dividing by the real elements
/// or, with `count_include_pad`, by the positions inside the declared padding too.
/// (`dilations` only arrives in opset 19; it is accepted here if present.)
enum AveragePoolOp: WindowPoolOperator {
    static let opType = "AveragePool"
    static let allowsDilations = true
    static func mode(_ node: Node) throws -> ReferenceMath.PoolMode {
        .average(countIncludePad: try node.int("count_include_pad", default: 0) != 0)
    }
}

/// Global pools: X [N, C, D1…] → [N, C, 1, …, 1].
protocol GlobalPoolOperator: OperatorSemantics {
    static var mode: ReferenceMath.PoolMode { get }
}

extension GlobalPoolOperator {
    static func check(_ node: Node, _ x: ValueType) throws {
        try requireFloat(node, x, "X")
        guard x.shape.count >= 3 else { throw shapeError(node, "X must have rank ≥ 3 (N, C, spatial…), got \(x.shape)") }
        guard x.shape[2...].allSatisfy({ $0 >= 1 }) else { throw shapeError(node, "empty spatial dimensions in \(x.shape)") }
    }

    static func inferTypes(_ node: Node, inputs: [StaticValue?], opset: Int) throws -> [ValueType] {
        let x = try required(inputs, 0, node).type
        try check(node, x)
        return [ValueType(.float32, Array(x.shape[..<2]) + [Int](repeating: 1, count: x.shape.count - 2))]
    }

    static func evaluate(_ node: Node, inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try required(inputs, 0, node)
        try check(node, ValueType(x.dataType, x.shape))
        let kernel = Array(x.shape[2...]), ones = [Int](repeating: 1, count: kernel.count), zeros = [Int](repeating: 0, count: kernel.count)
        return [ReferenceMath.pool(input: x, mode: mode, kernel: kernel, strides: ones, padsBegin: zeros, padsEnd: zeros, dilations: ones)]
    }
}

/// ONNX `GlobalAveragePool` (opset 1; float32): mean over all spatial positions.
enum GlobalAveragePoolOp: GlobalPoolOperator {
    static let opType = "GlobalAveragePool"
    static let mode = ReferenceMath.PoolMode.average(countIncludePad: false)
}

/// ONNX `GlobalMaxPool` (opset 1; float32): maximum over all spatial positions.
enum GlobalMaxPoolOp: GlobalPoolOperator {
    static let opType = "GlobalMaxPool"
    static let mode = ReferenceMath.PoolMode.max
}
