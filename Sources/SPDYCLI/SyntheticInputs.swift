import SPDYGraph
import SPDYTensor

/// Seeded inputs for benchmarks: standard-normal floats; for integer inputs, token ids in a
/// small range, attention masks of ones and token types of zeros (recognised by name).
enum SyntheticInputs {
    static func make(for graph: Graph, shapes: [String: [Int]], seed: UInt64 = 42) -> [String: Tensor] {
        var rng = SplitMix(seed: seed)
        var feeds: [String: Tensor] = [:]
        for input in graph.inputs {
            let shape = shapes[input.name] ?? []
            let count = shape.reduce(1, *)
            switch input.dataType {
            case .float32:
                feeds[input.name] = Tensor(shape: shape, floats: (0..<count).map { _ in rng.normal() })
            case .bool:
                feeds[input.name] = Tensor(shape: shape, bools: [Bool](repeating: true, count: count))
            default:
                let lower = input.name.lowercased()
                let values: [Int64]
                if lower.contains("mask") { values = [Int64](repeating: 1, count: count) }
                else if lower.contains("type") || lower.contains("segment") { values = [Int64](repeating: 0, count: count) }
                else { values = (0..<count).map { _ in Int64(rng.next() % 1000) + 1000 } }
                feeds[input.name] = Tensor(shape: shape, integers: values, dataType: input.dataType)
            }
        }
        return feeds
    }
}

/// A small seeded generator (SplitMix64) with a Box–Muller normal.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    mutating func normal() -> Float {
        let u = max(uniform(), 1e-7), v = uniform()
        return (-2 * logf(u)).squareRoot() * cosf(2 * .pi * v)
    }
}

import Foundation
