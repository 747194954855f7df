/// Reference elementwise maps over (broadcast) tensors. Slow and obviously correct.
extension Tensor {
    /// Applies `f` to every float element.
    public func mapFloats(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, floats: floats.map(f))
    }

    /// Combines float tensors elementwise after broadcasting. Precondition: compatible shapes.
    public static func broadcastFloats(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        guard let out = Broadcast.shape([a.shape, b.shape]) else { preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast") }
        let ia = Broadcast.sourceIndices(from: a.shape, to: out)
        let ib = Broadcast.sourceIndices(from: b.shape, to: out)
        let va = a.floats, vb = b.floats
        return Tensor(shape: out, floats: (0..<ia.count).map { f(va[ia[$0]], vb[ib[$0]]) })
    }

    /// Combines integer tensors elementwise after broadcasting; the result keeps `a`'s type.
    public static func broadcastIntegers(_ a: Tensor, _ b: Tensor, _ f: (Int64, Int64) -> Int64) -> Tensor {
        guard let out = Broadcast.shape([a.shape, b.shape]) else { preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast") }
        let ia = Broadcast.sourceIndices(from: a.shape, to: out)
        let ib = Broadcast.sourceIndices(from: b.shape, to: out)
        let va = a.integers, vb = b.integers
        return Tensor(shape: out, integers: (0..<ia.count).map { f(va[ia[$0]], vb[ib[$0]]) }, dataType: a.dataType)
    }

    /// Compares tensors of any one type elementwise after broadcasting (values as Double).
    public static func broadcastCompare(_ a: Tensor, _ b: Tensor, _ f: (Double, Double) -> Bool) -> Tensor {
        guard let out = Broadcast.shape([a.shape, b.shape]) else { preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast") }
        let ia = Broadcast.sourceIndices(from: a.shape, to: out)
        let ib = Broadcast.sourceIndices(from: b.shape, to: out)
        let va = a.doubles, vb = b.doubles
        return Tensor(shape: out, bools: (0..<ia.count).map { f(va[ia[$0]], vb[ib[$0]]) })
    }

    /// The elements gathered at `indices` (flat), keeping the element type, under `shape`.
    public func gathered(flatIndices indices: [Int], shape newShape: [Int]) -> Tensor {
        switch storage {
        case .float(let v): return Tensor(shape: newShape, floats: indices.map { v[$0] })
        case .integer(let v): return Tensor(shape: newShape, integers: indices.map { v[$0] }, dataType: dataType)
        case .bool(let v): return Tensor(shape: newShape, bools: indices.map { v[$0] })
        }
    }

    /// This tensor broadcast to `outShape`. Precondition: compatible.
    public func broadcast(to outShape: [Int]) -> Tensor {
        gathered(flatIndices: Broadcast.sourceIndices(from: shape, to: outShape), shape: outShape)
    }

    /// The elements converted to `type` (ONNX Cast semantics: float→int truncates toward zero,
    /// anything→bool is "nonzero").
    public func cast(to type: DataType) -> Tensor {
        let d = doubles
        switch type {
        case .float32: return Tensor(shape: shape, floats: d.map { Float($0) })
        case .bool: return Tensor(shape: shape, bools: d.map { $0 != 0 })
        default:
            return Tensor(shape: shape, integers: d.map { $0.isFinite ? Int64(clamping: Int64(exactly: $0.rounded(.towardZero)) ?? 0) : 0 }, dataType: type)
        }
    }
}
