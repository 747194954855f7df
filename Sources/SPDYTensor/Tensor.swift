/// A dense, row-major, value-semantic tensor.
///
/// Storage is a Swift array per element family, so copies share storage until one is written
/// (copy-on-write). Kernels reach the elements only inside `withUnsafe…` closures.
public struct Tensor: Sendable, Equatable {
    /// The element storage, one case per family of `DataType`.
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case integer([Int64])
        case bool([Bool])
    }

    /// Dimensions, outermost first. A scalar has shape `[]`.
    public private(set) var shape: [Int]
    /// The declared element type.
    public let dataType: DataType
    /// The elements in row-major order.
    public private(set) var storage: Storage

    /// A float tensor; `values.count` must equal the product of `shape`.
    public init(shape: [Int], floats values: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(values.count == Tensor.elementCount(shape), "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.dataType = .float32
        self.storage = .float(values)
    }

    /// An integer tensor of the given integer `dataType` (values stored widened to Int64).
    public init(shape: [Int], integers values: [Int64], dataType: DataType = .int64) {
        precondition(dataType.isInteger, "\(dataType) is not an integer type")
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(values.count == Tensor.elementCount(shape), "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.dataType = dataType
        self.storage = .integer(values)
    }

    /// A boolean tensor.
    public init(shape: [Int], bools values: [Bool]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(values.count == Tensor.elementCount(shape), "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.dataType = .bool
        self.storage = .bool(values)
    }

    /// A tensor of `shape` filled with zeros (false for bool).
    public init(zeros shape: [Int], dataType: DataType = .float32) {
        let n = Tensor.elementCount(shape)
        switch dataType {
        case .float32: self.init(shape: shape, floats: [Float](repeating: 0, count: n))
        case .bool: self.init(shape: shape, bools: [Bool](repeating: false, count: n))
        default: self.init(shape: shape, integers: [Int64](repeating: 0, count: n), dataType: dataType)
        }
    }

    /// A float scalar.
    public init(scalar: Float) { self.init(shape: [], floats: [scalar]) }

    /// A 1-D int64 tensor, the usual form of shapes and axes.
    public init(int64s values: [Int64]) { self.init(shape: [values.count], integers: values) }

    /// The number of elements.
    public var count: Int { Tensor.elementCount(shape) }
    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The product of the dimensions (1 for a scalar).
    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The float elements. Precondition: `dataType == .float32`.
    public var floats: [Float] {
        guard case .float(let v) = storage else { preconditionFailure("tensor is \(dataType), not float32") }
        return v
    }

    /// The integer elements. Precondition: an integer `dataType`.
    public var integers: [Int64] {
        guard case .integer(let v) = storage else { preconditionFailure("tensor is \(dataType), not an integer type") }
        return v
    }

    /// The boolean elements. Precondition: `dataType == .bool`.
    public var bools: [Bool] {
        guard case .bool(let v) = storage else { preconditionFailure("tensor is \(dataType), not bool") }
        return v
    }

    /// The elements of any type as Double (for comparisons, casts and printing).
    public var doubles: [Double] {
        switch storage {
        case .float(let v): return v.map(Double.init)
        case .integer(let v): return v.map(Double.init)
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        }
    }

    /// The same elements under a new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.elementCount(newShape) == count, "cannot reshape \(shape) to \(newShape)")
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// Row-major strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = acc
            acc *= shape[i]
        }
        return strides
    }

    /// Calls `body` with the float elements. Precondition: float32.
    public func withUnsafeFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        guard case .float(let v) = storage else { preconditionFailure("tensor is \(dataType), not float32") }
        return try v.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the float elements, mutable. Precondition: float32.
    public mutating func withUnsafeMutableFloats<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        guard case .float(var v) = storage else { preconditionFailure("tensor is \(dataType), not float32") }
        storage = .float([])  // drop our reference so `v` is uniquely owned
        defer { storage = .float(v) }
        return try v.withUnsafeMutableBufferPointer { try body($0) }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = doubles.prefix(6).map { String(describing: $0) }.joined(separator: ", ")
        return "Tensor<\(dataType)>\(shape) [\(preview)\(count > 6 ? ", …" : "")]"
    }
}
