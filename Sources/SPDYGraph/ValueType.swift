import SPDYTensor

/// A value's concrete type at plan-compile time: element type and fixed shape.
public struct ValueType: Sendable, Hashable, CustomStringConvertible {
    public var dataType: DataType
    public var shape: [Int]

    public init(_ dataType: DataType, _ shape: [Int]) {
        self.dataType = dataType
        self.shape = shape
    }

    /// The number of elements.
    public var count: Int { Tensor.elementCount(shape) }

    public var description: String { "\(dataType)\(shape)" }
}

/// What static analysis knows about a value: its type, and its contents when they can be
/// computed before run time (initializers, `Constant` nodes, shape arithmetic on them).
public struct StaticValue: Sendable {
    public var type: ValueType
    public var constant: Tensor?

    public init(type: ValueType, constant: Tensor? = nil) {
        self.type = type
        self.constant = constant
    }

    /// A known constant.
    public init(constant: Tensor) {
        self.type = ValueType(constant.dataType, constant.shape)
        self.constant = constant
    }
}
