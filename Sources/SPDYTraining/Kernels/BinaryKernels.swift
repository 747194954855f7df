import SPDYGraph
import SPDYKernels
import SPDYTensor

/// `Add`, `Sub`, `Mul`, `Div` on float tensors with NumPy broadcasting. An input's gradient is
/// the output gradient (times the other factor for Mul/Div) summed over the axes along which
/// that input was broadcast.
struct ArithmeticKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    enum Operation { case add, sub, mul, div }
    let operation: Operation
    let shapes: (a: [Int], b: [Int], out: [Int])

    func differentiable(input index: Int) -> Bool { index < 2 }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        let wantA = needsGradient.count > 0 && needsGradient[0], wantB = needsGradient.count > 1 && needsGradient[1]
        switch operation {
        case .add, .sub: return SavedValues()
        case .mul:
            var s = SavedValues()
            if wantA { s.inputs.insert(1) }
            if wantB { s.inputs.insert(0) }
            return s
        case .div:
            if wantB { return SavedValues(inputs: [0, 1]) }
            return wantA ? SavedValues(inputs: [1]) : SavedValues()
        }
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let a = arguments.dense(0), b = arguments.dense(1)
        let pool = arguments.pool
        switch operation {
        case .add: return KernelOutputs(BroadcastMap.map(a, b, shape: shapes.out, Arithmetic.Add<S>(), pool: pool))
        case .sub: return KernelOutputs(BroadcastMap.map(a, b, shape: shapes.out, Arithmetic.Sub<S>(), pool: pool))
        case .mul: return KernelOutputs(BroadcastMap.map(a, b, shape: shapes.out, Arithmetic.Mul<S>(), pool: pool))
        case .div: return KernelOutputs(BroadcastMap.map(a, b, shape: shapes.out, Arithmetic.Div<S>(), pool: pool))
        }
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil, nil] }
        let pool = arguments.pool
        var da: Dense<S>? = nil, db: Dense<S>? = nil
        switch operation {
        case .add:
            if arguments.wants(0) { da = StridedCopy.reduce(dy, to: shapes.a, pool: pool) }
            if arguments.wants(1) { db = StridedCopy.reduce(dy, to: shapes.b, pool: pool) }
        case .sub:
            if arguments.wants(0) { da = StridedCopy.reduce(dy, to: shapes.a, pool: pool) }
            if arguments.wants(1) {
                var g = StridedCopy.reduce(dy, to: shapes.b, pool: pool)
                g.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = -p[i] } }
                db = g
            }
        case .mul:
            if arguments.wants(0) {
                let t = BroadcastMap.map(dy, arguments.input(1), shape: shapes.out, Arithmetic.Mul<S>(), pool: pool)
                da = StridedCopy.reduce(t, to: shapes.a, pool: pool)
            }
            if arguments.wants(1) {
                let t = BroadcastMap.map(dy, arguments.input(0), shape: shapes.out, Arithmetic.Mul<S>(), pool: pool)
                db = StridedCopy.reduce(t, to: shapes.b, pool: pool)
            }
        case .div:
            if arguments.wants(0) {
                let t = BroadcastMap.map(dy, arguments.input(1), shape: shapes.out, Arithmetic.Div<S>(), pool: pool)
                da = StridedCopy.reduce(t, to: shapes.a, pool: pool)
            }
            if arguments.wants(1) {
                let t = BroadcastMap.map(dy, arguments.input(0), shape: shapes.out, Arithmetic.Mul<S>(), pool: pool)
                let u = BroadcastMap.map(t, arguments.input(1), shape: shapes.out, Arithmetic.NegDivSquare<S>(), pool: pool)
                db = StridedCopy.reduce(u, to: shapes.b, pool: pool)
            }
        }
        return [da, db]
    }
}

/// `Pow(X, P)` with a constant exponent P (broadcast): dX = dY · P · X^(P−1).
/// A gradient for the exponent is not supported.
struct PowerKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let exponent: Dense<S>
    let shapes: (x: [Int], out: [Int])

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        needsGradient.first == true ? SavedValues(inputs: [0]) : SavedValues()
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        KernelOutputs(BroadcastMap.map(arguments.dense(0), exponent, shape: shapes.out, Arithmetic.Power<S>(), pool: arguments.pool))
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil, arguments.wants(0) else { return [nil, nil] }
        let pool = arguments.pool
        let d = BroadcastMap.map(arguments.input(0), exponent, shape: shapes.out, Arithmetic.PowerDerivative<S>(), pool: pool)
        let t = BroadcastMap.map(dy, d, shape: shapes.out, Arithmetic.Mul<S>(), pool: pool)
        return [StridedCopy.reduce(t, to: shapes.x, pool: pool), nil]
    }
}

/// `Where(C, X, Y)` with float branches: the gradient flows to X where C holds, to Y elsewhere,
/// each summed over its broadcast axes. The condition carries none.
struct WhereKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let shapes: (c: [Int], x: [Int], y: [Int], out: [Int])

    func differentiable(input index: Int) -> Bool { index == 1 || index == 2 }

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        needsGradient.dropFirst().contains(true) ? SavedValues(inputs: [0]) : SavedValues()
    }

    /// The condition broadcast to the output, one Bool per element.
    private func condition(_ value: Value<S>?) -> [Bool] {
        let c = value!.tensor
        return c.shape == shapes.out ? c.bools : c.broadcast(to: shapes.out).bools
    }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let cond = condition(arguments.inputs[0])
        let x = arguments.dense(1), y = arguments.dense(2)
        let layout = StridedLayout.broadcast(to: shapes.out, from: [shapes.x, shapes.y])
        let n = layout.inner, so = layout.innerStrides[0], sx = layout.innerStrides[1], sy = layout.innerStrides[2]
        let out = Dense<S>(shape: shapes.out) { o in
            x.data.withUnsafeBufferPointer { xb in
                y.data.withUnsafeBufferPointer { yb in
                    cond.withUnsafeBufferPointer { cb in
                        let xp = xb.baseAddress!, yp = yb.baseAddress!, cp = cb.baseAddress!
                        layout.forEachRow(in: 0..<layout.rows) { off in
                            for i in 0..<n {
                                let k = off[0] + i * so
                                o[k] = cp[k] ? xp[off[1] + i * sx] : yp[off[2] + i * sy]
                            }
                        }
                    }
                }
            }
        }
        return KernelOutputs(out)
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil, nil, nil] }
        let cond = condition(arguments.inputs[0])
        func masked(_ keep: Bool) -> Dense<S> {
            var g = dy.data
            for i in 0..<g.count where cond[i] != keep { g[i] = 0 }
            return Dense(shape: shapes.out, data: g)
        }
        let dx = arguments.wants(1) ? StridedCopy.reduce(masked(true), to: shapes.x, pool: arguments.pool) : nil
        let dyy = arguments.wants(2) ? StridedCopy.reduce(masked(false), to: shapes.y, pool: arguments.pool) : nil
        return [nil, dx, dyy]
    }
}

extension ArithmeticKernel {
    /// The kernel for a float Add/Sub/Mul/Div/Pow/Where node, or nil when `spec` is not one.
    static func kernel(_ spec: KernelSpec) throws -> AnyKernel<S>? {
        let out = spec.outputTypes[0].shape
        switch spec.node.opType {
        case "Add", "Sub", "Mul", "Div":
            guard spec.inputType(0).dataType == .float32, spec.inputType(1).dataType == .float32 else { return nil }
            let op: Operation = ["Add": .add, "Sub": .sub, "Mul": .mul, "Div": .div][spec.node.opType]!
            return AnyKernel(ArithmeticKernel(operation: op, shapes: (spec.inputType(0).shape, spec.inputType(1).shape, out)))
        case "Pow":
            guard spec.inputType(0).dataType == .float32 else { return nil }
            let p = try spec.constant(1)
            let exponent = Dense<S>(shape: p.shape, data: p.doubles.map { S($0) })
            return AnyKernel(PowerKernel(exponent: exponent, shapes: (spec.inputType(0).shape, out)))
        case "Where":
            guard spec.inputType(1).dataType == .float32 else { return nil }
            return AnyKernel(WhereKernel<S>(shapes: (spec.inputType(0).shape, spec.inputType(1).shape, spec.inputType(2).shape, out)))
        default: return nil
        }
    }
}
