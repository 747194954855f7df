import Foundation
import SPDYKernels

/// A broadcast elementwise float operation. Shapes are coalesced at compile time into runs in
/// which each operand is either contiguous (stride 1) or constant (stride 0).
final class BinaryStep: PlanStep {
    enum Operation: String { case add, sub, mul, div, max, min, pow }

    let nodeName: String
    let operation: Operation
    /// Coalesced output dimensions and the operands' strides over them.
    let dims: [Int], stridesA: [Int], stridesB: [Int]
    let a: Int, b: Int, output: Int
    let count: Int
    /// Applied to the result (e.g. the Relu after a residual Add).
    let activation: Activation

    init(nodeName: String, operation: Operation, outShape: [Int], shapeA: [Int], shapeB: [Int], a: Int, b: Int, output: Int,
         activation: Activation = .none) {
        self.nodeName = nodeName
        self.operation = operation
        self.activation = activation
        (dims, stridesA, stridesB) = BinaryStep.coalesce(outShape, shapeA, shapeB)
        self.a = a; self.b = b; self.output = output
        self.count = outShape.reduce(1, *)
    }

    var kernel: String { "\(operation.rawValue) broadcast\(dims)\(activation)" }
    var readBuffers: [Int] { [a, b] }
    var writtenBuffers: [Int] { [output] }

    /// Merges adjacent dimensions whose broadcast pattern agrees for both operands.
    static func coalesce(_ out: [Int], _ sa: [Int], _ sb: [Int]) -> ([Int], [Int], [Int]) {
        let rank = out.count
        let pa = [Int](repeating: 1, count: rank - sa.count) + sa
        let pb = [Int](repeating: 1, count: rank - sb.count) + sb
        var dims: [Int] = [], bcA: [Bool] = [], bcB: [Bool] = []
        for i in 0..<rank where out[i] != 1 {
            let ba = pa[i] == 1, bb = pb[i] == 1
            if let last = dims.indices.last, bcA[last] == ba, bcB[last] == bb {
                dims[last] *= out[i]
            } else {
                dims.append(out[i]); bcA.append(ba); bcB.append(bb)
            }
        }
        if dims.isEmpty { return ([1], [0], [0]) }
        func strides(_ bc: [Bool]) -> [Int] {
            var s = [Int](repeating: 0, count: dims.count)
            var acc = 1
            for i in stride(from: dims.count - 1, through: 0, by: -1) where !bc[i] {
                s[i] = acc
                acc *= dims[i]
            }
            return s
        }
        return (dims, strides(bcA), strides(bcB))
    }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let pa = UnsafePointer(memory.pointer(a)), pb = UnsafePointer(memory.pointer(b))
        let py = memory.pointer(output)
        let inner = dims[dims.count - 1]
        let ia = stridesA[dims.count - 1], ib = stridesB[dims.count - 1]
        let outerCount = count / inner
        let (dims, sA, sB, op, act) = (dims, stridesA, stridesB, operation, activation)
        pool.parallelFor(outerCount, grain: max(1, 4096 / inner)) { range in
            for outer in range {
                // Decompose the outer index over dims[0..<last].
                var rem = outer, offA = 0, offB = 0
                var d = dims.count - 2
                while d >= 0 {
                    let idx = rem % dims[d]
                    rem /= dims[d]
                    offA += idx * sA[d]
                    offB += idx * sB[d]
                    d -= 1
                }
                let x = pa + offA, y = pb + offB, z = py + outer * inner
                if op == .add, ia == 1, ib == 1, let (lo, hi) = act.clampBounds {
                    VectorMath.add(x, y, z, count: inner, lo: lo, hi: hi)  // residual Add (+ Relu) fused
                    continue
                }
                BinaryStep.run(op, x, ia, y, ib, z, inner)
                if act != .none {
                    addBiasAndActivate(z, rows: 0..<1, width: inner, bias: nil, biasIndex: { $0 }, activation: act)
                }
            }
        }
    }

    @inline(__always)
    static func run(_ op: Operation, _ x: UnsafePointer<Float>, _ ix: Int, _ y: UnsafePointer<Float>, _ iy: Int,
                    _ z: UnsafeMutablePointer<Float>, _ n: Int) {
        switch (op, ix, iy) {
        case (.add, 1, 1): for i in 0..<n { z[i] = x[i] + y[i] }
        case (.add, 1, 0): let c = y[0]; for i in 0..<n { z[i] = x[i] + c }
        case (.add, 0, 1): let c = x[0]; for i in 0..<n { z[i] = c + y[i] }
        case (.mul, 1, 1): for i in 0..<n { z[i] = x[i] * y[i] }
        case (.mul, 1, 0): let c = y[0]; for i in 0..<n { z[i] = x[i] * c }
        case (.mul, 0, 1): let c = x[0]; for i in 0..<n { z[i] = c * y[i] }
        case (.sub, 1, 1): for i in 0..<n { z[i] = x[i] - y[i] }
        case (.div, 1, 1): for i in 0..<n { z[i] = x[i] / y[i] }
        case (.div, 1, 0): let c = y[0]; for i in 0..<n { z[i] = x[i] / c }
        default:
            for i in 0..<n {
                let u = x[i * ix], v = y[i * iy]
                switch op {
                case .add: z[i] = u + v
                case .sub: z[i] = u - v
                case .mul: z[i] = u * v
                case .div: z[i] = u / v
                case .max: z[i] = Swift.max(u, v)
                case .min: z[i] = Swift.min(u, v)
                case .pow: z[i] = v == 2 ? u * u : v == 0.5 ? u.squareRoot() : powf(u, v)
                }
            }
        }
    }
}

