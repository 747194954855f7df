import SPDYGraph
import SPDYKernels
import SPDYTensor

/// Runs `body` over disjoint chunks of `0..<count`, on several threads when the work is large.
@inline(__always)
func parallelElements(_ count: Int, pool: ThreadPool, _ body: (Range<Int>) -> Void) {
    if count >= 1 << 15 && pool.threads > 1 {
        pool.parallelFor(count, grain: 1 << 14, body)
    } else if count > 0 {
        body(0..<count)
    }
}

/// Which value an elementwise derivative reads.
enum UnaryReads {
    case input, output, nothing
}

/// The forward function and derivative of an elementwise operator. The derivative reads the
/// saved input `x` or output `y`, whichever `reads` says.
protocol UnaryRule {
    associatedtype S: TrainingScalar
    /// What the backward reads.
    var reads: UnaryReads { get }
    /// y = f(x) over `count` elements.
    func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int)
    /// dx = dy · f′, given the saved value (x or y).
    func backward(dy: UnsafePointer<S>, saved: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int)
}

/// An elementwise operator with one float input and one output of the same shape.
struct UnaryKernel<R: UnaryRule>: TrainingKernel {
    typealias Scalar = R.S
    let rule: R

    func saved(needsGradient: [Bool], training: Bool) -> SavedValues {
        guard needsGradient.first == true else { return SavedValues() }
        switch rule.reads {
        case .input: return SavedValues(inputs: [0])
        case .output: return SavedValues(outputs: [0])
        case .nothing: return SavedValues()
        }
    }

    func forward(_ arguments: ForwardArguments<Scalar>) throws -> KernelOutputs<Scalar> {
        let x = arguments.dense(0)
        let y = Dense<Scalar>(shape: x.shape) { y in
            x.data.withUnsafeBufferPointer { xb in
                let xp = xb.baseAddress!
                parallelElements(x.count, pool: arguments.pool) { r in
                    rule.forward(xp + r.lowerBound, y + r.lowerBound, count: r.count)
                }
            }
        }
        return KernelOutputs(y)
    }

    func backward(_ arguments: BackwardArguments<Scalar>) throws -> [Dense<Scalar>?] {
        guard let dy = arguments.outputGradients.first ?? nil else { return [nil] }
        let savedValue: Dense<Scalar>
        switch rule.reads {
        case .input: savedValue = arguments.input(0)
        case .output: savedValue = arguments.output(0)
        case .nothing: savedValue = dy
        }
        let dx = Dense<Scalar>(shape: savedValue.shape) { dx in
            dy.data.withUnsafeBufferPointer { g in
                savedValue.data.withUnsafeBufferPointer { s in
                    let gp = g.baseAddress!, sp = s.baseAddress!
                    parallelElements(dy.count, pool: arguments.pool) { r in
                        rule.backward(dy: gp + r.lowerBound, saved: sp + r.lowerBound, dx: dx + r.lowerBound, count: r.count)
                    }
                }
            }
        }
        return [dx]
    }
}

/// Elementwise rules of the supported activation functions.
enum UnaryRules {
    /// max(0, x); f′ = [y > 0].
    struct Relu<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .output }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
        }
        func backward(dy: UnsafePointer<S>, saved y: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = y[i] > 0 ? dy[i] : 0 }
        }
    }

    /// x < 0 ? αx : x; f′ from the input's sign.
    struct LeakyRelu<S: TrainingScalar>: UnaryRule {
        let alpha: S
        var reads: UnaryReads { .input }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { y[i] = x[i] < 0 ? alpha * x[i] : x[i] }
        }
        func backward(dy: UnsafePointer<S>, saved x: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i] }
        }
    }

    /// min(max(x, lo), hi); f′ = [lo < y < hi] (the clamped output: differs from PyTorch's
    /// inclusive bounds only where the input equals a bound exactly).
    struct Clip<S: TrainingScalar>: UnaryRule {
        let lo: S, hi: S
        var reads: UnaryReads { .output }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count {
                let v = x[i]
                y[i] = v < lo ? lo : (v > hi ? hi : v)
            }
        }
        func backward(dy: UnsafePointer<S>, saved y: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = y[i] > lo && y[i] < hi ? dy[i] : 0 }
        }
    }

    /// 1 / (1 + e^−x); f′ = y(1 − y).
    struct Sigmoid<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .output }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) { S.sigmoid(x, y, count: count) }
        func backward(dy: UnsafePointer<S>, saved y: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = dy[i] * y[i] * (1 - y[i]) }
        }
    }

    /// max(0, min(1, αx + β)); f′ = α where 0 < y < 1.
    struct HardSigmoid<S: TrainingScalar>: UnaryRule {
        let alpha: S, beta: S
        var reads: UnaryReads { .output }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count {
                let v = alpha * x[i] + beta
                y[i] = v < 0 ? 0 : (v > 1 ? 1 : v)
            }
        }
        func backward(dy: UnsafePointer<S>, saved y: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = y[i] > 0 && y[i] < 1 ? alpha * dy[i] : 0 }
        }
    }

    /// x · max(0, min(1, x/6 + 1/2)); f′ = 0 below −3, 1 above 3, (2x + 3)/6 between.
    struct HardSwish<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .input }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count {
                let g = x[i] / 6 + S(1) / 2
                y[i] = x[i] * (g < 0 ? 0 : (g > 1 ? 1 : g))
            }
        }
        func backward(dy: UnsafePointer<S>, saved x: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count {
                let v = x[i]
                dx[i] = v < -3 ? 0 : (v > 3 ? dy[i] : dy[i] * (2 * v + 3) / 6)
            }
        }
    }

    /// tanh x; f′ = 1 − y².
    struct Tanh<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .output }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) { S.tanh(x, y, count: count) }
        func backward(dy: UnsafePointer<S>, saved y: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = dy[i] * (1 - y[i] * y[i]) }
        }
    }

    /// erf x; f′ = 2/√π · e^(−x²).
    struct Erf<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .input }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) { S.erf(x, y, count: count) }
        func backward(dy: UnsafePointer<S>, saved x: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = -(x[i] * x[i]) }
            S.exp(dx, dx, count: count)
            let c = 2 / S.pi.squareRoot()
            for i in 0..<count { dx[i] = c * dx[i] * dy[i] }
        }
    }

    /// e^x; f′ = y.
    struct Exp<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .output }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) { S.exp(x, y, count: count) }
        func backward(dy: UnsafePointer<S>, saved y: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = dy[i] * y[i] }
        }
    }

    /// ln x; f′ = 1/x.
    struct Log<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .input }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { y[i] = S.log(x[i]) }
        }
        func backward(dy: UnsafePointer<S>, saved x: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = dy[i] / x[i] }
        }
    }

    /// √x; f′ = 1 / (2y).
    struct Sqrt<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .output }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { y[i] = x[i].squareRoot() }
        }
        func backward(dy: UnsafePointer<S>, saved y: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = dy[i] / (2 * y[i]) }
        }
    }

    /// 1/x; f′ = −y².
    struct Reciprocal<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .output }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { y[i] = 1 / x[i] }
        }
        func backward(dy: UnsafePointer<S>, saved y: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = -dy[i] * y[i] * y[i] }
        }
    }

    /// −x; f′ = −1.
    struct Neg<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .nothing }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { y[i] = -x[i] }
        }
        func backward(dy: UnsafePointer<S>, saved: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = -dy[i] }
        }
    }

    /// |x|; f′ = sign(x) (0 at 0).
    struct Abs<S: TrainingScalar>: UnaryRule {
        var reads: UnaryReads { .input }
        func forward(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { y[i] = Swift.abs(x[i]) }
        }
        func backward(dy: UnsafePointer<S>, saved x: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, count: Int) {
            for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : (x[i] < 0 ? -dy[i] : 0) }
        }
    }
}

extension UnaryRules {
    /// The kernel for a unary activation node, or nil when `spec` is not one.
    static func kernel<S: TrainingScalar>(_ spec: KernelSpec, scalar: S.Type) throws -> AnyKernel<S>? {
        let node = spec.node
        switch node.opType {
        case "Relu": return AnyKernel(UnaryKernel(rule: Relu<S>()))
        case "LeakyRelu": return AnyKernel(UnaryKernel(rule: LeakyRelu<S>(alpha: S(try node.float("alpha", default: 0.01)))))
        case "Sigmoid": return AnyKernel(UnaryKernel(rule: Sigmoid<S>()))
        case "HardSigmoid":
            return AnyKernel(UnaryKernel(rule: HardSigmoid<S>(alpha: S(try node.float("alpha", default: 0.2)),
                                                              beta: S(try node.float("beta", default: 0.5)))))
        case "HardSwish": return AnyKernel(UnaryKernel(rule: HardSwish<S>()))
        case "Tanh": return AnyKernel(UnaryKernel(rule: Tanh<S>()))
        case "Erf": return AnyKernel(UnaryKernel(rule: Erf<S>()))
        case "Exp": return AnyKernel(UnaryKernel(rule: Exp<S>()))
        case "Log": return AnyKernel(UnaryKernel(rule: Log<S>()))
        case "Sqrt": return AnyKernel(UnaryKernel(rule: Sqrt<S>()))
        case "Reciprocal": return AnyKernel(UnaryKernel(rule: Reciprocal<S>()))
        case "Neg": return AnyKernel(UnaryKernel(rule: Neg<S>()))
        case "Abs": return AnyKernel(UnaryKernel(rule: Abs<S>()))
        case "Clip":
            var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
            if node.attributes["min"] != nil { lo = try node.float("min") }
            if node.attributes["max"] != nil { hi = try node.float("max") }
            if spec.hasInput(1) { lo = Float(try spec.constant(1).doubles.first ?? Double(lo)) }
            if spec.hasInput(2) { hi = Float(try spec.constant(2).doubles.first ?? Double(hi)) }
            return AnyKernel(UnaryKernel(rule: Clip<S>(lo: S(lo), hi: S(hi))))
        default: return nil
        }
    }
}
