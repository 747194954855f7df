import SPDYCore
import SPDYGraph
import SPDYTensor

/// Seeded inputs for benchmarks: standard-normal floats; for integer inputs, token ids in a
/// small range, attention masks of ones and token types of zeros (recognised by name).
enum SyntheticInputs {
    static func make(for graph: Graph, shapes: [String: [Int]], seed: UInt64 = 42) -> [String: Tensor] {
        var rng = SplitMix64(seed: seed)
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

extension SplitMix64 {
    /// A standard-normal float (Box–Muller).
    mutating func normal() -> Float {
        let u = max(nextUnitDouble(), 1e-12), v = nextUnitDouble()
        return Float((-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v))
    }
}

import Foundation
