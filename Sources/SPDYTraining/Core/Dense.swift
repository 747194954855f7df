import SPDYTensor

/// A float value inside the executor (activation, parameter or gradient) in precision `S`:
/// a row-major array and its shape. Copies share the array until one is written.
struct Dense<S: TrainingScalar> {
    /// Dimensions, outermost first.
    var shape: [Int]
    /// The elements, row-major; `data.count` is the product of `shape`.
    var data: [S]

    init(shape: [Int], data: [S]) {
        precondition(data.count == Tensor.elementCount(shape), "\(data.count) values for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// Zeros of `shape`.
    init(zeros shape: [Int]) {
        self.init(shape: shape, data: [S](repeating: 0, count: Tensor.elementCount(shape)))
    }

    /// A value of `shape` whose elements `body` writes (every one of them).
    init(shape: [Int], writing body: (UnsafeMutablePointer<S>) throws -> Void) rethrows {
        let n = Tensor.elementCount(shape)
        self.shape = shape
        self.data = try [S](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { try body(buffer.baseAddress!) }
            initialized = n
        }
    }

    /// The float32 elements of `tensor` in precision `S`. Precondition: a float32 tensor.
    init(_ tensor: Tensor) {
        if S.self == Float.self {
            self.init(shape: tensor.shape, data: tensor.floats as! [S])
        } else {
            self.init(shape: tensor.shape, data: tensor.floats.map { S($0) })
        }
    }

    /// The number of elements.
    var count: Int { data.count }

    /// The elements rounded to float32, as a `Tensor`.
    var tensor: Tensor {
        if S.self == Float.self { return Tensor(shape: shape, floats: data as! [Float]) }
        return Tensor(shape: shape, floats: data.map { Float($0) })
    }

    /// The same elements under another shape with the same element count (no copy).
    func reshaped(_ newShape: [Int]) -> Dense {
        precondition(Tensor.elementCount(newShape) == count, "cannot reshape \(shape) to \(newShape)")
        return Dense(shape: newShape, data: data)
    }

    /// Adds `other` (same element count) elementwise into this value.
    mutating func add(_ other: Dense) {
        precondition(other.count == count, "adding \(other.shape) to \(shape)")
        let n = count
        data.withUnsafeMutableBufferPointer { d in
            other.data.withUnsafeBufferPointer { o in
                let dp = d.baseAddress!, op = o.baseAddress!
                for i in 0..<n { dp[i] += op[i] }
            }
        }
    }
}

/// A value flowing through the executor: float data in the executor's precision, or an integer
/// or boolean tensor (token ids, masks, shapes), which carries no gradient.
enum Value<S: TrainingScalar> {
    case dense(Dense<S>)
    case host(Tensor)

    /// The value's shape.
    var shape: [Int] {
        switch self {
        case .dense(let d): return d.shape
        case .host(let t): return t.shape
        }
    }

    /// The number of elements.
    var count: Int { Tensor.elementCount(shape) }

    /// The float data. Precondition: a float value.
    var dense: Dense<S> {
        guard case .dense(let d) = self else { preconditionFailure("expected a float value, found \(shape) non-float") }
        return d
    }

    /// The value as a `Tensor` (floats rounded to float32).
    var tensor: Tensor {
        switch self {
        case .dense(let d): return d.tensor
        case .host(let t): return t
        }
    }

    /// A value from a tensor: float32 tensors become `Dense`, others stay tensors.
    init(_ tensor: Tensor) {
        self = tensor.dataType == .float32 ? .dense(Dense(tensor)) : .host(tensor)
    }
}
