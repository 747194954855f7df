import Foundation
import SPDYKernels

/// Softmax over the last axis, row by row.
final class SoftmaxStep: SingleInputStep {
    let nodeName: String
    let rows: Int, width: Int
    let logarithmic: Bool
    let input: Int, output: Int

    init(nodeName: String, rows: Int, width: Int, logarithmic: Bool, input: Int, output: Int) {
        self.nodeName = nodeName
        self.rows = rows; self.width = width
        self.logarithmic = logarithmic
        self.input = input; self.output = output
    }

    var kernel: String { logarithmic ? "LogSoftmax rows" : "Softmax rows" }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let x = UnsafePointer(memory.pointer(input)), y = memory.pointer(output)
        let (w, log) = (width, logarithmic)
        pool.parallelFor(rows, grain: 16) { range in
            for r in range {
                let xi = x + r * w, yi = y + r * w
                let m = VectorMath.maximum(xi, count: w)
                VectorMath.exp(xi, yi, count: w, minus: m)
                let sum = VectorMath.sum(yi, count: w)
                if log {
                    let ls = Foundation.log(sum)
                    for j in 0..<w { yi[j] = xi[j] - m - ls }
                } else {
                    let inv = 1 / sum
                    for j in 0..<w { yi[j] *= inv }
                }
            }
        }
    }
}

/// LayerNormalization over the trailing `width` elements with scale and bias; with `residual`,
/// of `input + residual` (a residual connection's Add folded in: the sum is formed in the
/// output row, then normalised in place). Operands that are token-blocked (a transformer's
/// residual stream between sparse Linear layers) run on `TokenBlockLayerNorm`.
final class LayerNormStep: PlanStep {
    let nodeName: String
    let rows: Int, width: Int
    let epsilon: Float
    let scale: [Float], bias: [Float]
    let input: Int, residual: Int?, output: Int
    /// The kernel for operands that are not all token-major; nil for the row kernel.
    let blocked: TokenBlockLayerNorm?

    init(nodeName: String, rows: Int, width: Int, epsilon: Float, scale: [Float], bias: [Float], input: Int,
         residual: Int? = nil, output: Int,
         layouts: (input: ActivationLayout, residual: ActivationLayout, output: ActivationLayout) = (.tokenMajor, .tokenMajor, .tokenMajor),
         threads: Int = 1) {
        self.nodeName = nodeName
        self.rows = rows; self.width = width; self.epsilon = epsilon
        self.scale = scale; self.bias = bias
        self.input = input; self.residual = residual; self.output = output
        let residualLayout = residual == nil ? nil : layouts.residual
        blocked = [layouts.input, residualLayout, layouts.output].allSatisfy { $0 == nil || $0 == .tokenMajor } ? nil
            : TokenBlockLayerNorm(tokens: rows, features: width, epsilon: epsilon, scale: scale, bias: bias,
                                  input: layouts.input, residual: residualLayout, output: layouts.output, threads: threads)
    }

    var kernel: String {
        var tags = ""
        if let b = blocked {
            let inputs = [b.input, b.residual ?? .tokenMajor].contains { $0.tokenBlockWidth != nil }
            tags = (inputs ? " blocked-in" : "") + (b.output.tokenBlockWidth != nil ? " blocked-out" : "")
        }
        return (residual == nil ? "LayerNorm rows" : "LayerNorm rows+residual") + tags
    }
    var readBuffers: [Int] { [input] + (residual.map { [$0] } ?? []) }
    var writtenBuffers: [Int] { [output] }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let x = UnsafePointer(memory.pointer(input)), y = memory.pointer(output)
        let r = residual.map { UnsafePointer(memory.pointer($0)) }
        if let blocked {
            blocked.run(x: x, residual: r, y: y, pool: pool)
            return
        }
        let (w, eps) = (width, epsilon)
        scale.withUnsafeBufferPointer { g in
            bias.withUnsafeBufferPointer { b in
                pool.parallelFor(rows, grain: 8) { range in
                    for row in range {
                        var xi = x + row * w
                        let yi = y + row * w
                        if let r {
                            let ri = r + row * w
                            VectorMath.add(xi, ri, yi, count: w)
                            xi = UnsafePointer(yi)
                        }
                        let mean = VectorMath.sum(xi, count: w) / Float(w)
                        let variance = VectorMath.sumOfSquaredDeviations(xi, from: mean, count: w) / Float(w)
                        let inv = 1 / (variance + eps).squareRoot()
                        Self.normalise(xi, yi, count: w, mean: mean, inv: inv, scale: g.baseAddress!, bias: b.baseAddress!)
                    }
                }
            }
        }
    }

    /// y[j] = (x[j] − mean) · inv · scale[j] + bias[j], eight lanes at a time (x may be y).
    @inline(__always)
    static func normalise(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, mean: Float, inv: Float,
                          scale: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        let m = V(repeating: mean), s = V(repeating: inv)
        var j = 0
        while j + 8 <= count {
            let v = (load(x + j) - m) * s * load(scale + j) + load(bias + j)
            UnsafeMutableRawPointer(y + j).storeBytes(of: v, as: V.self)
            j += 8
        }
        while j < count { y[j] = (x[j] - mean) * inv * scale[j] + bias[j]; j += 1 }
    }
}

/// Per-channel affine map y = x·scale[c] + shift[c] over NC… data (a BatchNormalization that
/// could not be folded into a convolution), with an optional fused activation.
final class ChannelAffineStep: SingleInputStep {
    let nodeName: String
    let batch: Int, channels: Int, plane: Int
    let scale: [Float], shift: [Float]
    let activation: Activation
    let input: Int, output: Int

    init(nodeName: String, batch: Int, channels: Int, plane: Int, scale: [Float], shift: [Float],
         activation: Activation, input: Int, output: Int) {
        self.nodeName = nodeName
        self.batch = batch; self.channels = channels; self.plane = plane
        self.scale = scale; self.shift = shift
        self.activation = activation
        self.input = input; self.output = output
    }

    var kernel: String { "BatchNorm affine\(activation)" }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let x = UnsafePointer(memory.pointer(input)), y = memory.pointer(output)
        let (c, p, act) = (channels, plane, activation)
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { t in
                pool.parallelFor(batch * c, grain: 8) { range in
                    for r in range {
                        let ch = r % c
                        for i in 0..<p { y[r * p + i] = act.apply(x[r * p + i] * s[ch] + t[ch]) }
                    }
                }
            }
        }
    }
}
