/// NumPy-style multidirectional broadcasting, as ONNX specifies it.
public enum Broadcast {
    /// The broadcast shape of `shapes`, or nil when they are incompatible.
    public static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for s in shapes {
            let offset = rank - s.count
            for (i, d) in s.enumerated() {
                let r = result[offset + i]
                if r == d || d == 1 { continue }
                if r == 1 { result[offset + i] = d } else { return nil }
            }
        }
        return result
    }

    /// For each element of `outShape` (row-major), the flat index into a tensor of `shape`
    /// broadcast to it.
    public static func sourceIndices(from shape: [Int], to outShape: [Int]) -> [Int] {
        let count = outShape.reduce(1, *)
        let rank = outShape.count
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        var strides = [Int](repeating: 0, count: rank)
        var acc = 1
        for i in stride(from: rank - 1, through: 0, by: -1) {
            strides[i] = padded[i] == 1 ? 0 : acc
            acc *= padded[i]
        }
        var indices = [Int](repeating: 0, count: count)
        var counter = [Int](repeating: 0, count: rank)
        var flat = 0
        for n in 0..<count {
            indices[n] = flat
            var axis = rank - 1
            while axis >= 0 {
                counter[axis] += 1
                flat += strides[axis]
                if counter[axis] < outShape[axis] { break }
                flat -= strides[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return indices
    }
}
