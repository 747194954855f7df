/// Naive reference kernels: matrix products, convolution and pooling as plain loops over Float
/// arrays, accumulating in Double. Slow and obviously correct; the ONNX operator semantics call
/// them, and the engine's fast kernels are verified against them.
///
/// Layouts: activations NCHW (N, C, spatial…), convolution weights OIHW (M, C/group, kernel…).
/// Callers validate shapes first: these functions state their requirements as preconditions
/// (programmer errors), never as thrown errors.
public enum ReferenceMath {
    // MARK: Matrix products

    /// Row-major `C[m×n] = A[m×k] · B[k×n]`.
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        precondition(m >= 0 && k >= 0 && n >= 0 && a.count == m * k && b.count == k * n,
                     "matmul: \(a.count) and \(b.count) elements for m=\(m) k=\(k) n=\(n)")
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k { acc += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(acc)
            }
        }
        return c
    }

    /// The output shape of a NumPy-style `matmul` of `a` and `b` (1-D operands promoted and the
    /// promoted axis removed again, leading batch dimensions broadcast), or nil when the inner
    /// dimensions differ, the batch dimensions do not broadcast, or an operand is a scalar.
    public static func matmulShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        let a2 = a.count == 1 ? [1] + a : a
        let b2 = b.count == 1 ? b + [1] : b
        guard a2[a2.count - 1] == b2[b2.count - 2] else { return nil }
        guard let batch = Broadcast.shape([Array(a2.dropLast(2)), Array(b2.dropLast(2))]) else { return nil }
        var out = batch
        if a.count > 1 { out.append(a2[a2.count - 2]) }
        if b.count > 1 { out.append(b2[b2.count - 1]) }
        return out
    }

    /// NumPy `matmul` of float tensors: 1-D promotion and batched products with broadcast of
    /// the leading dimensions. Precondition: `matmulShape(a.shape, b.shape) != nil`.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        guard let outShape = matmulShape(a.shape, b.shape) else {
            preconditionFailure("matmul: shapes \(a.shape) and \(b.shape) are incompatible")
        }
        let a2 = a.rank == 1 ? [1] + a.shape : a.shape
        let b2 = b.rank == 1 ? b.shape + [1] : b.shape
        let m = a2[a2.count - 2], k = a2[a2.count - 1], n = b2[b2.count - 1]
        let batchA = Array(a2.dropLast(2)), batchB = Array(b2.dropLast(2))
        let batch = Broadcast.shape([batchA, batchB])!
        let ia = Broadcast.sourceIndices(from: batchA, to: batch)
        let ib = Broadcast.sourceIndices(from: batchB, to: batch)
        let va = a.floats, vb = b.floats
        var out = [Float]()
        out.reserveCapacity(Tensor.elementCount(outShape))
        for t in 0..<ia.count {
            let sa = Array(va[(ia[t] * m * k)..<((ia[t] + 1) * m * k)])
            let sb = Array(vb[(ib[t] * k * n)..<((ib[t] + 1) * k * n)])
            out += matmul(sa, sb, m: m, k: k, n: n)
        }
        return Tensor(shape: outShape, floats: out)
    }

    /// `alpha · op(A) · op(B) + beta · C` with `op` an optional transpose, A and B 2-D, and C
    /// (if any) broadcast to [M, N]. Precondition: compatible shapes.
    public static func gemm(_ a: Tensor, _ b: Tensor, _ c: Tensor?, alpha: Float = 1, beta: Float = 1,
                            transA: Bool = false, transB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "gemm: A and B must be 2-D, got \(a.shape) and \(b.shape)")
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        let va = a.floats, vb = b.floats
        var cv: [Float]? = nil
        if let c {
            precondition(Broadcast.shape([c.shape, [m, n]]) == [m, n], "gemm: C \(c.shape) does not broadcast to [\(m), \(n)]")
            cv = c.broadcast(to: [m, n]).floats
        }
        var y = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let x = transA ? va[p * m + i] : va[i * k + p]
                    let w = transB ? vb[j * k + p] : vb[p * n + j]
                    acc += Double(x) * Double(w)
                }
                var r = Double(alpha) * acc
                if let cv { r += Double(beta) * Double(cv[i * n + j]) }
                y[i * n + j] = Float(r)
            }
        }
        return Tensor(shape: [m, n], floats: y)
    }

    // MARK: Sliding windows

    /// The number of window positions along one axis:
    /// `⌊(input + padBegin + padEnd − ((kernel − 1)·dilation + 1)) / stride⌋ + 1`, or with
    /// `ceilMode` the ceiling, dropping a last window that would start inside the end padding
    /// (PyTorch's and ONNX Runtime's rule). Returns 0 or less when the window does not fit.
    public static func windowCount(input: Int, kernel: Int, stride: Int, padBegin: Int, padEnd: Int,
                                   dilation: Int, ceilMode: Bool = false) -> Int {
        precondition(kernel >= 1 && stride >= 1 && dilation >= 1 && padBegin >= 0 && padEnd >= 0)
        let span = input + padBegin + padEnd - ((kernel - 1) * dilation + 1)
        if span < 0 { return 0 }
        guard ceilMode else { return span / stride + 1 }
        var count = (span + stride - 1) / stride + 1
        if (count - 1) * stride >= input + padBegin { count -= 1 }
        return count
    }

    /// Multi-indices of every position of `shape`, row-major.
    static func positions(_ shape: [Int]) -> [[Int]] {
        var result: [[Int]] = []
        result.reserveCapacity(Tensor.elementCount(shape))
        var index = [Int](repeating: 0, count: shape.count)
        guard !shape.contains(0) else { return [] }
        while true {
            result.append(index)
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return result }
        }
    }

    /// N-dimensional convolution (cross-correlation, as in ONNX `Conv`) of `input`
    /// [N, C, D1…Dr] with `weight` [M, C/group, K1…Kr] and optional `bias` [M].
    ///
    /// Output [N, M, O1…Or] with `Oi = windowCount(...)`. Padding reads as zero. Preconditions:
    /// float tensors, consistent shapes, one stride/pad/dilation per spatial axis, `group`
    /// dividing both C and M, every `Oi ≥ 1`.
    public static func convolution(input: Tensor, weight: Tensor, bias: Tensor? = nil, strides: [Int],
                                   padsBegin: [Int], padsEnd: [Int], dilations: [Int], group: Int = 1) -> Tensor {
        let r = input.rank - 2
        precondition(r >= 1 && weight.rank == r + 2, "convolution: input \(input.shape), weight \(weight.shape)")
        precondition(strides.count == r && padsBegin.count == r && padsEnd.count == r && dilations.count == r)
        let n = input.shape[0], c = input.shape[1], m = weight.shape[0], cg = weight.shape[1]
        precondition(group >= 1 && cg * group == c && m % group == 0, "convolution: channels \(c), weight \(weight.shape), group \(group)")
        let spatial = Array(input.shape[2...]), kernel = Array(weight.shape[2...])
        let outSpatial = (0..<r).map {
            windowCount(input: spatial[$0], kernel: kernel[$0], stride: strides[$0], padBegin: padsBegin[$0],
                        padEnd: padsEnd[$0], dilation: dilations[$0])
        }
        precondition(outSpatial.allSatisfy { $0 >= 1 }, "convolution: empty output \(outSpatial)")
        if let bias { precondition(bias.count == m, "convolution: bias \(bias.shape) for \(m) output channels") }
        let x = input.floats, w = weight.floats, b = bias?.floats
        let inStrides = Tensor.strides(spatial)
        let inSize = Tensor.elementCount(spatial), kSize = Tensor.elementCount(kernel)
        let outPositions = positions(outSpatial), kPositions = positions(kernel)
        let mg = m / group
        var y = [Float]()
        y.reserveCapacity(n * m * outPositions.count)
        for img in 0..<n {
            for oc in 0..<m {
                let g = oc / mg
                for o in outPositions {
                    var acc = b.map { Double($0[oc]) } ?? 0
                    for (kk, kpos) in kPositions.enumerated() {
                        var offset = 0, inside = true
                        for d in 0..<r {
                            let coord = o[d] * strides[d] - padsBegin[d] + kpos[d] * dilations[d]
                            if coord < 0 || coord >= spatial[d] { inside = false; break }
                            offset += coord * inStrides[d]
                        }
                        if !inside { continue }
                        for ic in 0..<cg {
                            let xv = x[(img * c + g * cg + ic) * inSize + offset]
                            let wv = w[(oc * cg + ic) * kSize + kk]
                            acc += Double(xv) * Double(wv)
                        }
                    }
                    y.append(Float(acc))
                }
            }
        }
        return Tensor(shape: [n, m] + outSpatial, floats: y)
    }

    /// 2-D convolution NCHW × OIHW; `pads` is (top, left, bottom, right) as in ONNX.
    public static func conv2d(input: Tensor, weight: Tensor, bias: Tensor? = nil,
                              strides: (Int, Int) = (1, 1), pads: (Int, Int, Int, Int) = (0, 0, 0, 0),
                              dilations: (Int, Int) = (1, 1), group: Int = 1) -> Tensor {
        precondition(input.rank == 4 && weight.rank == 4, "conv2d: input \(input.shape), weight \(weight.shape)")
        return convolution(input: input, weight: weight, bias: bias, strides: [strides.0, strides.1],
                           padsBegin: [pads.0, pads.1], padsEnd: [pads.2, pads.3],
                           dilations: [dilations.0, dilations.1], group: group)
    }

    /// How pooling combines a window.
    public enum PoolMode: Sendable, Equatable {
        /// The largest element, ignoring padding; a window of padding only gives `-Float.greatestFiniteMagnitude`
        /// (the lowest finite value, as ONNX Runtime).
        case max
        /// The mean; the divisor counts padded positions (within the declared pads, not beyond
        /// them in ceil mode) when `countIncludePad`, else only real elements.
        case average(countIncludePad: Bool)
    }

    /// N-dimensional pooling of `input` [N, C, D1…Dr] with a `kernel` window.
    /// Preconditions: float input, one kernel/stride/pad/dilation per spatial axis, every output
    /// size (`windowCount`) at least 1.
    public static func pool(input: Tensor, mode: PoolMode, kernel: [Int], strides: [Int], padsBegin: [Int],
                            padsEnd: [Int], dilations: [Int], ceilMode: Bool = false) -> Tensor {
        let r = input.rank - 2
        precondition(r >= 1 && kernel.count == r && strides.count == r && padsBegin.count == r &&
                     padsEnd.count == r && dilations.count == r, "pool: input \(input.shape), kernel \(kernel)")
        let spatial = Array(input.shape[2...])
        let outSpatial = (0..<r).map {
            windowCount(input: spatial[$0], kernel: kernel[$0], stride: strides[$0], padBegin: padsBegin[$0],
                        padEnd: padsEnd[$0], dilation: dilations[$0], ceilMode: ceilMode)
        }
        precondition(outSpatial.allSatisfy { $0 >= 1 }, "pool: empty output \(outSpatial)")
        let x = input.floats
        let planes = input.shape[0] * input.shape[1]
        let inStrides = Tensor.strides(spatial), inSize = Tensor.elementCount(spatial)
        let outPositions = positions(outSpatial), kPositions = positions(kernel)
        var y = [Float]()
        y.reserveCapacity(planes * outPositions.count)
        for plane in 0..<planes {
            for o in outPositions {
                var maxValue = -Float.greatestFiniteMagnitude
                var sum = 0.0, real = 0, padded = 0
                for kpos in kPositions {
                    var offset = 0, inside = true, inPads = true
                    for d in 0..<r {
                        let coord = o[d] * strides[d] - padsBegin[d] + kpos[d] * dilations[d]
                        if coord < 0 || coord >= spatial[d] { inside = false }
                        if coord < -padsBegin[d] || coord >= spatial[d] + padsEnd[d] { inPads = false }
                        if inside { offset += coord * inStrides[d] }
                    }
                    if inPads { padded += 1 }
                    guard inside else { continue }
                    let v = x[plane * inSize + offset]
                    real += 1
                    sum += Double(v)
                    if v > maxValue || v.isNaN { maxValue = v }
                }
                switch mode {
                case .max: y.append(maxValue)
                case .average(let countIncludePad): y.append(Float(sum / Double(countIncludePad ? padded : real)))
                }
            }
        }
        return Tensor(shape: Array(input.shape[..<2]) + outSpatial, floats: y)
    }
}
