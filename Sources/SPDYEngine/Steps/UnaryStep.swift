import Foundation
import SPDYKernels

/// An elementwise float function applied over a whole tensor.
final class UnaryStep: SingleInputStep {
    enum Function: String {
        case relu, sigmoid, tanh, erf, exp, log, sqrt, reciprocal, abs, neg, silu
    }

    let nodeName: String
    let function: Function
    let clip: (Float, Float)?
    let count: Int
    let input: Int, output: Int

    init(nodeName: String, function: Function, clip: (Float, Float)? = nil, count: Int, input: Int, output: Int) {
        self.nodeName = nodeName
        self.function = function
        self.clip = clip
        self.count = count
        self.input = input
        self.output = output
    }

    var kernel: String { clip.map { "Clip(\($0.0),\($0.1))" } ?? function.rawValue }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let x = UnsafePointer(memory.pointer(input)), y = memory.pointer(output)
        let f = function
        if let (lo, hi) = clip {
            pool.parallelFor(count, grain: 4096) { r in for i in r { y[i] = min(max(x[i], lo), hi) } }
            return
        }
        pool.parallelFor(count, grain: 4096) { r in
            switch f {
            case .relu: for i in r { y[i] = max(x[i], 0) }
            case .sigmoid: VectorMath.sigmoid(x + r.lowerBound, y + r.lowerBound, count: r.count)
            case .silu: VectorMath.silu(x + r.lowerBound, y + r.lowerBound, count: r.count)
            case .tanh: VectorMath.tanh(x + r.lowerBound, y + r.lowerBound, count: r.count)
            case .erf: VectorMath.erf(x + r.lowerBound, y + r.lowerBound, count: r.count)
            case .exp: VectorMath.exp(x + r.lowerBound, y + r.lowerBound, count: r.count)
            case .log: for i in r { y[i] = Foundation.log(x[i]) }
            case .sqrt: for i in r { y[i] = x[i].squareRoot() }
            case .reciprocal: for i in r { y[i] = 1 / x[i] }
            case .abs: for i in r { y[i] = Swift.abs(x[i]) }
            case .neg: for i in r { y[i] = -x[i] }
            }
        }
    }
}
