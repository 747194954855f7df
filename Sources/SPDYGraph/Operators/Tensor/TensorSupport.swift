import SPDYTensor

// Shared pieces of the tensor-manipulation family: axis normalisation, reading integer
// tensors from (untrusted) models, and generic element movement over any storage kind.

extension OperatorSemantics {
    /// `axis` mapped into `0..<rank` (ONNX: negative counts from the back), or a shape error.
    /// `extended` accepts `rank` itself too (the range `[-rank, rank]`, as for Flatten).
    static func normalizedAxis(_ axis: Int, rank: Int, _ node: Node, extended: Bool = false) throws -> Int {
        let upper = extended ? rank : rank - 1
        guard axis >= -rank, axis <= upper else {
            throw shapeError(node, "axis \(axis) is out of range [\(-rank), \(upper)] for rank \(rank)")
        }
        return axis < 0 ? axis + rank : axis
    }

    /// Each of `axes` normalised into `0..<rank`; repeated axes are an error.
    static func normalizedAxes(_ axes: [Int], rank: Int, _ node: Node) throws -> [Int] {
        let result = try axes.map { try normalizedAxis($0, rank: rank, node) }
        guard Set(result).count == result.count else { throw shapeError(node, "axes \(axes) repeat an axis") }
        return result
    }

    /// The elements of an integer tensor (int64, int32, …) as `Int`, or a type error naming `what`.
    static func intValues(_ tensor: Tensor, _ node: Node, _ what: String) throws -> [Int] {
        guard tensor.dataType.isInteger else {
            throw typeError(node, "\(what) must be an integer tensor, got \(tensor.dataType)")
        }
        return tensor.integers.map { Int(truncatingIfNeeded: $0) }
    }

    /// The integer contents of the constant input `index`, or nil when the input is omitted.
    /// Throws `needsConstant` when it is present but only known at run time.
    static func optionalConstantInts(_ inputs: [StaticValue?], _ index: Int, _ node: Node, _ what: String) throws -> [Int]? {
        guard index < inputs.count, inputs[index] != nil else { return nil }
        return try intValues(try constant(inputs, index, node), node, what)
    }

    /// The integer contents of input `index` at evaluation time, or nil when omitted.
    static func optionalInts(_ inputs: [Tensor?], _ index: Int, _ node: Node, _ what: String) throws -> [Int]? {
        guard index < inputs.count, let t = inputs[index] else { return nil }
        return try intValues(t, node, what)
    }

    /// Concrete inputs seen as known constants, so `evaluate` can reuse the planning code that
    /// `inferTypes` runs (one source of truth for output shapes).
    static func staticInputs(_ inputs: [Tensor?]) -> [StaticValue?] {
        inputs.map { $0.map { StaticValue(constant: $0) } }
    }

    /// `a + b`, or a shape error instead of overflowing (sizes from models can be anything).
    static func checkedSum(_ values: [Int], _ node: Node) throws -> Int {
        var total = 0
        for v in values {
            let (s, overflow) = total.addingReportingOverflow(v)
            guard !overflow else { throw shapeError(node, "sizes \(values) overflow") }
            total = s
        }
        return total
    }

    /// The product of `values`, or a shape error instead of overflowing.
    static func checkedProduct(_ values: [Int], _ node: Node) throws -> Int {
        var total = 1
        for v in values {
            let (p, overflow) = total.multipliedReportingOverflow(by: v)
            guard !overflow else { throw shapeError(node, "sizes \(values) overflow") }
            total = p
        }
        return total
    }

    /// A Double rounded to an `Int` dimension, or a shape error when it is not finite or too large.
    static func checkedDimension(_ value: Double, _ node: Node) throws -> Int {
        guard value.isFinite, value >= 0, value <= Double(Int32.max) * 16 else {
            throw shapeError(node, "dimension \(value) is out of range")
        }
        return Int(value)
    }

    /// Throws unless `shape` is a valid tensor shape (no negative dimension) with a sane size.
    static func checkedShape(_ shape: [Int], _ node: Node) throws -> [Int] {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw shapeError(node, "negative dimension in \(shape)") }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= Int(Int32.max) * 16 else { throw shapeError(node, "shape \(shape) is too large") }
            count = p
        }
        return shape
    }
}

/// Calls `body` with every coordinate of `shape`, in row-major order (nothing for empty shapes).
func forEachCoordinate(_ shape: [Int], _ body: ([Int]) throws -> Void) rethrows {
    let count = Tensor.elementCount(shape)
    guard count > 0 else { return }
    var coordinate = [Int](repeating: 0, count: shape.count)
    for _ in 0..<count {
        try body(coordinate)
        var axis = shape.count - 1
        while axis >= 0 {
            coordinate[axis] += 1
            if coordinate[axis] < shape[axis] { break }
            coordinate[axis] = 0
            axis -= 1
        }
    }
}

/// The flat row-major offset of `coordinate` in a tensor with `strides`.
func flatOffset(_ coordinate: [Int], _ strides: [Int]) -> Int {
    var offset = 0
    for i in 0..<coordinate.count { offset += coordinate[i] * strides[i] }
    return offset
}

extension Tensor {
    /// The elements of `tensors` (all of one data type) one after another, as a 1-D tensor.
    /// Precondition: a non-empty list of one data type.
    static func joined(_ tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty && tensors.allSatisfy { $0.dataType == tensors[0].dataType })
        let total = tensors.reduce(0) { $0 + $1.count }
        switch tensors[0].storage {
        case .float: return Tensor(shape: [total], floats: tensors.flatMap(\.floats))
        case .integer: return Tensor(shape: [total], integers: tensors.flatMap(\.integers), dataType: tensors[0].dataType)
        case .bool: return Tensor(shape: [total], bools: tensors.flatMap(\.bools))
        }
    }
}
