import RealModule
import SPDYGraph
import SPDYKernels
import SPDYTensor

/// `MaxPool` (1-D/2-D, strides, pads, dilations, ceil mode): the forward records each window's
/// winning input position (the first maximum, as the reference; −1 when no element beats the
/// lowest finite value) and the backward adds dY there.
struct MaxPoolKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let window: WindowShape
    let inputShape: [Int], outputShape: [Int]

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0)
        let w = window
        let planes = w.batch * w.channels
        var argmax = [Int32](repeating: -1, count: planes * w.outPlane)
        let y = Dense<S>(shape: outputShape) { y in
            x.data.withUnsafeBufferPointer { xb in
                argmax.withUnsafeMutableBufferPointer { ab in
                    let xp = xb.baseAddress!, ap = ab.baseAddress!
                    arguments.pool.parallelFor(planes, grain: 1) { range in
                        for p in range {
                            let src = xp + p * w.inPlane
                            for oy in 0..<w.outHeight {
                                for ox in 0..<w.outWidth {
                                    var best = -S.greatestFiniteMagnitude, at: Int32 = -1
                                    for ky in 0..<w.kernelHeight {
                                        let iy = oy * w.strideH + ky * w.dilationH - w.padTop
                                        if iy < 0 || iy >= w.inHeight { continue }
                                        for kx in 0..<w.kernelWidth {
                                            let ix = ox * w.strideW + kx * w.dilationW - w.padLeft
                                            if ix < 0 || ix >= w.inWidth { continue }
                                            let v = src[iy * w.inWidth + ix]
                                            if v > best || v.isNaN { best = v; at = Int32(iy * w.inWidth + ix) }
                                        }
                                    }
                                    let o = p * w.outPlane + oy * w.outWidth + ox
                                    y[o] = best
                                    ap[o] = at
                                }
                            }
                        }
                    }
                }
            }
        }
        return KernelOutputs([.dense(y)], auxiliary: Auxiliary(indices: argmax))
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil, let argmax = arguments.auxiliary?.indices else { return [nil] }
        let w = window
        var dx = Dense<S>(zeros: inputShape)
        dy.data.withUnsafeBufferPointer { gb in
            dx.data.withUnsafeMutableBufferPointer { db in
                let gp = gb.baseAddress!, dp = db.baseAddress!
                arguments.pool.parallelFor(w.batch * w.channels, grain: 1) { range in
                    for p in range {
                        let d = dp + p * w.inPlane
                        for o in (p * w.outPlane)..<((p + 1) * w.outPlane) where argmax[o] >= 0 {
                            d[Int(argmax[o])] += gp[o]
                        }
                    }
                }
            }
        }
        return [dx]
    }
}

/// `AveragePool` (1-D/2-D, strides, pads, dilations, ceil mode, `count_include_pad`): each
/// window's mean; the backward spreads dY / divisor over the window's real positions.
struct AveragePoolKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let window: WindowShape
    let countIncludePad: Bool
    let inputShape: [Int], outputShape: [Int]

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    /// The window's tap positions along one axis inside the image, and the count inside the
    /// declared padding (the divisor with `count_include_pad`).
    @inline(__always)
    private func taps(_ o: Int, stride: Int, kernel: Int, dilation: Int, pad: Int, padEnd: Int, size: Int) -> (Int, Int) {
        var inside = 0, padded = 0
        for k in 0..<kernel {
            let i = o * stride + k * dilation - pad
            if i >= 0 && i < size { inside += 1 }
            if i >= -pad && i < size + padEnd { padded += 1 }
        }
        return (inside, padded)
    }

    /// The divisor of output position (oy, ox).
    private func divisor(_ oy: Int, _ ox: Int) -> Int {
        let w = window
        let (iy, py) = taps(oy, stride: w.strideH, kernel: w.kernelHeight, dilation: w.dilationH, pad: w.padTop, padEnd: w.padBottom, size: w.inHeight)
        let (ix, px) = taps(ox, stride: w.strideW, kernel: w.kernelWidth, dilation: w.dilationW, pad: w.padLeft, padEnd: w.padRight, size: w.inWidth)
        return max(1, countIncludePad ? py * px : iy * ix)
    }

    /// Calls `body(input index, output index, 1/divisor)` for every (output, in-image tap) pair of one plane.
    @inline(__always)
    private func forEachTap(_ body: (Int, Int, S) -> Void) {
        let w = window
        for oy in 0..<w.outHeight {
            for ox in 0..<w.outWidth {
                let scale = 1 / S(divisor(oy, ox))
                let o = oy * w.outWidth + ox
                for ky in 0..<w.kernelHeight {
                    let iy = oy * w.strideH + ky * w.dilationH - w.padTop
                    if iy < 0 || iy >= w.inHeight { continue }
                    for kx in 0..<w.kernelWidth {
                        let ix = ox * w.strideW + kx * w.dilationW - w.padLeft
                        if ix < 0 || ix >= w.inWidth { continue }
                        body(iy * w.inWidth + ix, o, scale)
                    }
                }
            }
        }
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0), w = window
        var y = Dense<S>(zeros: outputShape)
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                let xp = xb.baseAddress!, yp = yb.baseAddress!
                arguments.pool.parallelFor(w.batch * w.channels, grain: 1) { range in
                    for p in range {
                        let src = xp + p * w.inPlane, dst = yp + p * w.outPlane
                        forEachTap { i, o, s in dst[o] += src[i] * s }
                    }
                }
            }
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil] }
        let w = window
        var dx = Dense<S>(zeros: inputShape)
        dy.data.withUnsafeBufferPointer { gb in
            dx.data.withUnsafeMutableBufferPointer { db in
                let gp = gb.baseAddress!, dp = db.baseAddress!
                arguments.pool.parallelFor(w.batch * w.channels, grain: 1) { range in
                    for p in range {
                        let g = gp + p * w.outPlane, d = dp + p * w.inPlane
                        forEachTap { i, o, s in d[i] += g[o] * s }
                    }
                }
            }
        }
        return [dx]
    }
}

/// `GlobalAveragePool` and `GlobalMaxPool` over all spatial positions of each plane.
struct GlobalPoolKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let inputShape: [Int], outputShape: [Int]
    let maximum: Bool

    var planes: Int { inputShape[0] * inputShape[1] }
    var plane: Int { inputShape.dropFirst(2).reduce(1, *) }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0), size = plane
        var argmax = [Int32](repeating: 0, count: maximum ? planes : 0)
        let y = Dense<S>(shape: outputShape) { y in
            x.data.withUnsafeBufferPointer { xb in
                argmax.withUnsafeMutableBufferPointer { ab in
                    // An empty array may still have a base address: test the flag, not the pointer.
                    let xp = xb.baseAddress!, ap = maximum ? ab.baseAddress : nil
                    arguments.pool.parallelFor(planes, grain: max(1, 4096 / max(size, 1))) { range in
                        for p in range {
                            let src = xp + p * size
                            if let ap {
                                var best = src[0], at = 0
                                for i in 1..<max(size, 1) where src[i] > best || src[i].isNaN { best = src[i]; at = i }
                                y[p] = best
                                ap[p] = Int32(at)
                            } else {
                                var sum: S = 0
                                for i in 0..<size { sum = Relaxed.sum(sum, src[i]) }
                                y[p] = sum / S(size)
                            }
                        }
                    }
                }
            }
        }
        return KernelOutputs([.dense(y)], auxiliary: maximum ? Auxiliary(indices: argmax) : nil)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil] }
        let size = plane
        if maximum, let argmax = arguments.auxiliary?.indices {
            var dx = Dense<S>(zeros: inputShape)
            for p in 0..<planes { dx.data[p * size + Int(argmax[p])] = dy.data[p] }
            return [dx]
        }
        let scale = 1 / S(size)
        let dx = Dense<S>(shape: inputShape) { out in
            dy.data.withUnsafeBufferPointer { gb in
                let gp = gb.baseAddress!
                arguments.pool.parallelFor(planes, grain: max(1, 4096 / max(size, 1))) { range in
                    for p in range { (out + p * size).update(repeating: gp[p] * scale, count: size) }
                }
            }
        }
        return [dx]
    }
}

enum PoolingKernels {
    /// The kernel for a pooling node, or nil when `spec` is not one.
    static func kernel<S: TrainingScalar>(_ spec: KernelSpec, scalar: S.Type) throws -> AnyKernel<S>? {
        let node = spec.node
        let x = spec.inputType(0).shape, y = spec.outputTypes[0].shape
        switch node.opType {
        case "GlobalAveragePool", "GlobalMaxPool":
            guard x.count >= 3 else { throw spec.unsupported("X must have rank ≥ 3, got \(x)") }
            return AnyKernel(GlobalPoolKernel<S>(inputShape: x, outputShape: y, maximum: node.opType == "GlobalMaxPool"))
        case "MaxPool", "AveragePool":
            if node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
                throw spec.unsupported("the Indices output is not supported")
            }
            guard let kernel = try node.ints("kernel_shape") else {
                throw GraphError.missingAttribute(node: node.name, opType: node.opType, attribute: "kernel_shape")
            }
            let window = try WindowShape(spec, input: x, kernel: kernel, output: Array(y[2...]))
            if node.opType == "MaxPool" {
                return AnyKernel(MaxPoolKernel<S>(window: window, inputShape: x, outputShape: y))
            }
            return AnyKernel(AveragePoolKernel<S>(window: window, countIncludePad: try node.int("count_include_pad", default: 0) != 0,
                                                  inputShape: x, outputShape: y))
        default: return nil
        }
    }
}
