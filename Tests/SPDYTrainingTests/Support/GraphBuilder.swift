import SPDYCore
import SPDYGraph
import SPDYTensor

/// Builds small graphs in code for the gradient checks: inputs, initializers, nodes.
struct GraphBuilder {
    var inputs: [ValueInfo] = []
    var initializers: [String: Tensor] = [:]
    var nodes: [Node] = []
    var opset: Int
    private var counter = 0

    init(opset: Int = 17) { self.opset = opset }

    /// A float (or other) graph input of a fixed shape.
    @discardableResult
    mutating func input(_ name: String, _ shape: [Int], _ type: DataType = .float32) -> String {
        inputs.append(ValueInfo(name: name, dataType: type, shape: shape.map { .fixed($0) }))
        return name
    }

    /// A graph input with declared (possibly symbolic) dimensions.
    @discardableResult
    mutating func input(_ name: String, dims: [Dim], _ type: DataType = .float32) -> String {
        inputs.append(ValueInfo(name: name, dataType: type, shape: dims))
        return name
    }

    /// An initializer.
    @discardableResult
    mutating func initializer(_ name: String, _ tensor: Tensor) -> String {
        initializers[name] = tensor
        return name
    }

    /// An int64 constant initializer (shapes, axes, pads).
    mutating func ints(_ values: [Int64], shape: [Int]? = nil) -> String {
        counter += 1
        let name = "const\(counter)"
        initializers[name] = Tensor(shape: shape ?? [values.count], integers: values)
        return name
    }

    /// A node with `outputs` fresh output names; returns them.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], outputs: Int = 1, _ attributes: [String: Attribute] = [:]) -> [String] {
        counter += 1
        let outs = (0..<outputs).map { "\(op.lowercased())\(counter)_\($0)" }
        nodes.append(Node(name: "\(op)_\(counter)", opType: op, inputs: inputs, outputs: outs, attributes: attributes))
        return outs
    }

    /// A one-output node; returns its output.
    mutating func op(_ op: String, _ inputs: [String], _ attributes: [String: Attribute] = [:]) -> String {
        node(op, inputs, attributes)[0]
    }

    /// The graph with `outputs`.
    func graph(_ outputs: [String]) -> Graph {
        Graph(name: "test", inputs: inputs, outputs: outputs.map { ValueInfo(name: $0, dataType: .float32, shape: nil) },
              initializers: initializers, nodes: nodes, opsetVersion: opset)
    }
}

/// Seeded random tensors.
struct TestRandom {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// A standard normal sample (Box–Muller).
    mutating func normal() -> Double {
        let u = max(rng.nextUnitDouble(), 1e-300), v = rng.nextUnitDouble()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    /// Normal values times `scale` plus `offset`.
    mutating func tensor(_ shape: [Int], scale: Double = 1, offset: Double = 0) -> Tensor {
        Tensor(shape: shape, floats: (0..<Tensor.elementCount(shape)).map { _ in Float(normal() * scale + offset) })
    }

    /// Uniform values in [lo, hi).
    mutating func uniform(_ shape: [Int], _ lo: Double, _ hi: Double) -> Tensor {
        Tensor(shape: shape, floats: (0..<Tensor.elementCount(shape)).map { _ in Float(lo + (hi - lo) * rng.nextUnitDouble()) })
    }

    /// Integers in 0..<bound.
    mutating func indices(_ shape: [Int], below bound: Int) -> Tensor {
        Tensor(shape: shape, integers: (0..<Tensor.elementCount(shape)).map { _ in Int64(rng.nextIndex(below: bound)) })
    }
}

import Foundation
