import SPDYGraph
import SPDYKernels
import SPDYTensor

/// Reshape-like operators (`Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Identity`, inference
/// `Dropout`, float-to-float `Cast`): the output shares the input's elements; the gradient is the
/// output gradient under the input's shape.
struct AliasKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let inputShape: [Int], outputShape: [Int]
    /// Whether the node also outputs Dropout's mask (all true at inference).
    let dropoutMask: Bool

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let y = arguments.dense(0).reshaped(outputShape)
        if dropoutMask {
            return KernelOutputs([.dense(y), .host(Tensor(shape: outputShape, bools: [Bool](repeating: true, count: y.count)))])
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil] }
        return [dy.reshaped(inputShape)] + [Dense<S>?](repeating: nil, count: max(0, arguments.needsGradient.count - 1))
    }
}

/// A copy through a strided view of the input: `Transpose`, `Slice`, `Expand`, `Tile`, and
/// `Gather` of a constant scalar index. The backward adds dY back through the same view (summing
/// where the view repeats input elements).
struct ViewKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let inputShape: [Int], outputShape: [Int]
    /// The view's index space (the output, possibly split into more axes, e.g. for Tile).
    let viewShape: [Int]
    /// Input strides and offset per view axis.
    let inputStrides: [Int], inputBase: Int

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0)
        let layout = StridedLayout(shape: viewShape, strides: [Tensor.strides(viewShape), inputStrides], bases: [0, inputBase])
        let y = Dense<S>(shape: outputShape) { y in
            x.data.withUnsafeBufferPointer { xb in
                StridedCopy.run(layout, src: xb.baseAddress!, dst: y, accumulate: false, pool: arguments.pool)
            }
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil] }
        var dx = Dense<S>(zeros: inputShape)
        let layout = StridedLayout(shape: viewShape, strides: [inputStrides, Tensor.strides(viewShape)], bases: [inputBase, 0])
        let injective = !inputStrides.enumerated().contains { $0.element == 0 && viewShape[$0.offset] > 1 }
        dy.data.withUnsafeBufferPointer { gb in
            dx.data.withUnsafeMutableBufferPointer { db in
                StridedCopy.run(layout, src: gb.baseAddress!, dst: db.baseAddress!, accumulate: true,
                                pool: injective ? arguments.pool : nil)
            }
        }
        return [dx] + [Dense<S>?](repeating: nil, count: max(0, arguments.needsGradient.count - 1))
    }
}

/// `Concat` of float inputs: each input is copied into its block of the output; its gradient is
/// that block of dY.
struct ConcatKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let inputShapes: [[Int]], outputShape: [Int]
    let axis: Int

    func differentiable(input index: Int) -> Bool { true }
    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    /// The layout writing input `k` (operand 1) into its block of the output (operand 0), and
    /// the block's offset in the output.
    private func block(_ k: Int) -> (StridedLayout, Int) {
        let shape = inputShapes[k]
        let outStrides = Tensor.strides(outputShape)
        let offset = inputShapes[..<k].reduce(0) { $0 + $1[axis] } * outStrides[axis]
        return (StridedLayout(shape: shape, strides: [outStrides, Tensor.strides(shape)], bases: [offset, 0]), offset)
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        var y = Dense<S>(zeros: outputShape)
        y.data.withUnsafeMutableBufferPointer { yb in
            for k in 0..<inputShapes.count where inputShapes[k].reduce(1, *) > 0 {
                let x = arguments.dense(k)
                x.data.withUnsafeBufferPointer { xb in
                    StridedCopy.run(block(k).0, src: xb.baseAddress!, dst: yb.baseAddress!, accumulate: false, pool: arguments.pool)
                }
            }
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return inputShapes.map { _ in nil } }
        return (0..<inputShapes.count).map { k in
            guard arguments.wants(k) else { return nil }
            let shape = inputShapes[k]
            let (_, offset) = block(k)
            let layout = StridedLayout(shape: shape, strides: [Tensor.strides(shape), Tensor.strides(outputShape)], bases: [0, offset])
            return Dense<S>(shape: shape) { dx in
                if shape.reduce(1, *) == 0 { return }
                dy.data.withUnsafeBufferPointer { gb in
                    StridedCopy.run(layout, src: gb.baseAddress!, dst: dx, accumulate: false, pool: arguments.pool)
                }
            }
        }
    }
}

/// `Split` of a float input into blocks along one axis; the gradient assembles the output
/// gradients (zeros for outputs that received none).
struct SplitKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let inputShape: [Int], outputShapes: [[Int]]
    let axis: Int

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    private func offset(_ k: Int) -> Int {
        outputShapes[..<k].reduce(0) { $0 + $1[axis] } * Tensor.strides(inputShape)[axis]
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0)
        let outputs: [Value<S>] = (0..<outputShapes.count).map { k in
            let shape = outputShapes[k]
            let layout = StridedLayout(shape: shape, strides: [Tensor.strides(shape), Tensor.strides(inputShape)], bases: [0, offset(k)])
            return .dense(Dense<S>(shape: shape) { y in
                x.data.withUnsafeBufferPointer { xb in
                    StridedCopy.run(layout, src: xb.baseAddress!, dst: y, accumulate: false, pool: arguments.pool)
                }
            })
        }
        return KernelOutputs(outputs)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        var dx = Dense<S>(zeros: inputShape)
        dx.data.withUnsafeMutableBufferPointer { db in
            for k in 0..<outputShapes.count {
                guard k < arguments.outputGradients.count, let g = arguments.outputGradients[k], g.count > 0 else { continue }
                let shape = outputShapes[k]
                let layout = StridedLayout(shape: shape, strides: [Tensor.strides(inputShape), Tensor.strides(shape)], bases: [offset(k), 0])
                g.data.withUnsafeBufferPointer { gb in
                    StridedCopy.run(layout, src: gb.baseAddress!, dst: db.baseAddress!, accumulate: false, pool: arguments.pool)
                }
            }
        }
        return [dx] + [Dense<S>?](repeating: nil, count: max(0, arguments.needsGradient.count - 1))
    }
}

/// `Pad` in constant mode: the output is the fill value with the input copied into its window
/// (negative pads crop); the gradient is dY inside that window.
struct PadKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let inputShape: [Int], outputShape: [Int]
    let begins: [Int]
    let fill: S

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    /// The region of the input that lands in the output: its shape, and the start of that region
    /// in the input and in the output.
    private var region: (shape: [Int], inputBase: Int, outputBase: Int) {
        let inStrides = Tensor.strides(inputShape), outStrides = Tensor.strides(outputShape)
        var shape: [Int] = [], inBase = 0, outBase = 0
        for d in 0..<inputShape.count {
            let first = max(0, -begins[d])                       // first input index kept
            let last = min(inputShape[d], outputShape[d] - begins[d])  // one past the last kept
            shape.append(max(0, last - first))
            inBase += first * inStrides[d]
            outBase += (first + begins[d]) * outStrides[d]
        }
        return (shape, inBase, outBase)
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let x = arguments.dense(0)
        let r = region
        var y = Dense<S>(shape: outputShape, data: [S](repeating: fill, count: outputShape.reduce(1, *)))
        if r.shape.reduce(1, *) > 0 {
            let layout = StridedLayout(shape: r.shape, strides: [Tensor.strides(outputShape), Tensor.strides(inputShape)],
                                       bases: [r.outputBase, r.inputBase])
            x.data.withUnsafeBufferPointer { xb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    StridedCopy.run(layout, src: xb.baseAddress!, dst: yb.baseAddress!, accumulate: false, pool: arguments.pool)
                }
            }
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil] }
        let r = region
        var dx = Dense<S>(zeros: inputShape)
        if r.shape.reduce(1, *) > 0 {
            let layout = StridedLayout(shape: r.shape, strides: [Tensor.strides(inputShape), Tensor.strides(outputShape)],
                                       bases: [r.inputBase, r.outputBase])
            dy.data.withUnsafeBufferPointer { gb in
                dx.data.withUnsafeMutableBufferPointer { db in
                    StridedCopy.run(layout, src: gb.baseAddress!, dst: db.baseAddress!, accumulate: false, pool: arguments.pool)
                }
            }
        }
        return [dx] + [Dense<S>?](repeating: nil, count: max(0, arguments.needsGradient.count - 1))
    }
}

/// `Gather` of float data along one axis at integer indices (constant or computed): the
/// embedding lookup. The gradient scatters dY back, adding rows picked more than once.
struct GatherKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let dataShape: [Int], outputShape: [Int]
    let axis: Int
    /// The indices when known at compile time.
    let constantIndices: [Int]?
    let name: String

    var outer: Int { dataShape[..<axis].reduce(1, *) }
    var inner: Int { dataShape[(axis + 1)...].reduce(1, *) }
    var size: Int { dataShape[axis] }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        needsGradient.first == true && constantIndices == nil ? SavedValues(inputs: [1]) : SavedValues()
    }

    private func indices(_ value: Value<S>?) throws -> [Int] {
        if let constantIndices { return constantIndices }
        guard let t = value?.tensor, t.dataType.isInteger else { preconditionFailure("Gather indices missing") }
        return try t.integers.map { i in
            guard i >= -Int64(size), i < Int64(size) else {
                throw TrainingError.unknownValue(name: name, reason: "Gather index \(i) is out of range for axis size \(size)")
            }
            return Int(i < 0 ? i + Int64(size) : i)
        }
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let data = arguments.dense(0)
        let idx = try indices(arguments.inputs[1])
        let (inner, size) = (self.inner, self.size)
        let y = Dense<S>(shape: outputShape) { y in
            data.data.withUnsafeBufferPointer { db in
                let dp = db.baseAddress!
                for o in 0..<outer {
                    for (j, i) in idx.enumerated() {
                        (y + (o * idx.count + j) * inner).update(from: dp + (o * size + i) * inner, count: inner)
                    }
                }
            }
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil, arguments.wants(0) else { return [nil, nil] }
        let idx = try indices(arguments.inputs[1])
        var dData = Dense<S>(zeros: dataShape)
        let (inner, size) = (self.inner, self.size)
        dy.data.withUnsafeBufferPointer { gb in
            dData.data.withUnsafeMutableBufferPointer { db in
                let gp = gb.baseAddress!, dp = db.baseAddress!
                for o in 0..<outer {
                    for (j, i) in idx.enumerated() {
                        let src = gp + (o * idx.count + j) * inner, dst = dp + (o * size + i) * inner
                        for e in 0..<inner { dst[e] += src[e] }
                    }
                }
            }
        }
        return [dData, nil]
    }
}
