import Foundation
import Testing
import SPDYKernels

/// The vectorised transcendental functions against Foundation's scalar ones (their slow twins),
/// over a sweep that includes the clamped extremes and odd tail lengths.
@Suite("Vector math matches Foundation")
struct VectorMathTests {
    static let inputs: [Float] = stride(from: Float(-90), through: 90, by: 0.0137).map { $0 } + [0, -0, 1e-8, -1e-8]

    func compare(_ name: String, _ fast: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                 _ slow: (Double) -> Double, relative: Double, absolute: Double) {
        let x = Self.inputs
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { ys in fast(xs.baseAddress!, ys.baseAddress!, xs.count) } }
        var worst = 0.0
        for (xi, yi) in zip(x, y) {
            let expected = slow(Double(xi))
            let error = abs(Double(yi) - expected)
            worst = max(worst, error / max(1, abs(expected)))
            #expect(error <= absolute + relative * abs(expected), "\(name)(\(xi)) = \(yi), expected \(expected)")
            if error > absolute + relative * abs(expected) { return }
        }
    }

    @Test func exp() {
        compare("exp", { VectorMath.exp($0, $1, count: $2) }, { Foundation.exp(max(min($0, 88.3), -87.3)) }, relative: 5e-6, absolute: 1e-37)
    }

    @Test func erf() {
        compare("erf", { VectorMath.erf($0, $1, count: $2) }, Foundation.erf, relative: 0, absolute: 5e-7)
    }

    @Test func gelu() {
        compare("gelu", { VectorMath.gelu($0, $1, count: $2) }, { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) },
                relative: 1e-6, absolute: 3e-7 * 90)
    }

    @Test func sigmoidAndSiLU() {
        compare("sigmoid", { VectorMath.sigmoid($0, $1, count: $2) }, { 1 / (1 + Foundation.exp(-$0)) }, relative: 1e-6, absolute: 1e-7)
        compare("silu", { VectorMath.silu($0, $1, count: $2) }, { $0 / (1 + Foundation.exp(-$0)) }, relative: 1e-6, absolute: 1e-7)
    }

    @Test func tanh() {
        compare("tanh", { VectorMath.tanh($0, $1, count: $2) }, Foundation.tanh, relative: 1e-6, absolute: 2e-7)
    }
}
