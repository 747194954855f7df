import Foundation
import Testing
import SPDYKernels

/// `TokenBlockLayerNorm` against a Double LayerNorm, over every mix of token-major and
/// token-blocked operands, partial blocks and strips, with and without a residual. Padding is
/// NaN: a kernel that reads it into a valid output fails.
@Suite("Token-blocked LayerNorm")
struct TokenBlockLayerNormTests {
    static func random(_ count: Int, seed: UInt64, offset: Float = 0) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) - 0.5) * 4 + offset
        }
    }

    static func reference(x: [Float], r: [Float]?, tokens: Int, features: Int, epsilon: Float,
                          scale: [Float], bias: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: tokens * features)
        for t in 0..<tokens {
            let h = (0..<features).map { Double(x[t * features + $0]) + Double(r?[t * features + $0] ?? 0) }
            let mean = h.reduce(0, +) / Double(features)
            let variance = h.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(features)
            let inv = 1 / (variance + Double(epsilon)).squareRoot()
            for f in 0..<features { y[t * features + f] = Float((h[f] - mean) * inv * Double(scale[f]) + Double(bias[f])) }
        }
        return y
    }

    /// (input, residual or nil, output) layouts.
    static let combinations: [(ActivationLayout, ActivationLayout?, ActivationLayout)] = [
        (.tokenMajor, nil, .tokenBlocked(width: 64)),
        (.tokenBlocked(width: 128), .tokenBlocked(width: 128), .tokenBlocked(width: 128)),
        (.tokenBlocked(width: 32), .tokenBlocked(width: 32), .tokenMajor),
        (.tokenBlocked(width: 64), nil, .tokenBlocked(width: 64)),
        (.tokenMajor, .tokenBlocked(width: 64), .tokenMajor),
        (.tokenBlocked(width: 32), .tokenMajor, .tokenBlocked(width: 64)),
    ]

    @Test(arguments: [1, 2])
    func equalsDoubleReference(threads: Int) {
        let pool = ThreadPool(threads: threads)
        // (tokens, features): one token, partial strips and blocks, MiniLM's width.
        for (tokens, features) in [(1, 7), (37, 20), (200, 384), (256, 33)] {
            for (index, (input, residual, output)) in Self.combinations.enumerated() {
                let x = Self.random(tokens * features, seed: UInt64(index + 1), offset: 3)
                let r = residual.map { _ in Self.random(tokens * features, seed: UInt64(index + 11)) }
                let scale = Self.random(features, seed: 21), bias = Self.random(features, seed: 22)
                let norm = TokenBlockLayerNorm(tokens: tokens, features: features, epsilon: 1e-12, scale: scale, bias: bias,
                                               input: input, residual: residual, output: output, threads: threads)
                let xs = input.arrange(x, tokens: tokens, features: features)
                let rs = residual.map { $0.arrange(r!, tokens: tokens, features: features) }
                var y = [Float](repeating: .nan, count: output.storage(tokens: tokens, features: features))
                xs.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        if let rs {
                            rs.withUnsafeBufferPointer { rp in
                                norm.run(x: xp.baseAddress!, residual: rp.baseAddress!, y: yp.baseAddress!, pool: pool)
                            }
                        } else {
                            norm.run(x: xp.baseAddress!, residual: nil, y: yp.baseAddress!, pool: pool)
                        }
                    }
                }
                let got = output.tokenMajorMatrix(y, tokens: tokens, features: features)
                let want = Self.reference(x: x, r: r, tokens: tokens, features: features, epsilon: 1e-12, scale: scale, bias: bias)
                let error = zip(got, want).map { $0.isNaN ? Float.infinity : abs($0 - $1) }.max() ?? 0
                #expect(error <= 2e-5, "\(tokens)x\(features) \(input) + \(String(describing: residual)) -> \(output): max error \(error)")
            }
        }
    }
}
