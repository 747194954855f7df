import SPDYGraph
import SPDYTensor

/// The parameters of a model in precision `S`: values, accumulated gradients, masks.
///
/// Every float initializer `ParameterDiscovery` finds lives here (trainable or not), so a
/// trained model is the graph with these values written back (`write(into:)`).
final class ParameterStore<S: TrainingScalar> {
    struct Entry {
        let name: String
        let role: ParameterRole
        /// Whether the optimiser updates it (and the backward pass computes its gradient).
        let trainable: Bool
        var value: Dense<S>
        /// Σ of the gradients since the last `zeroGradients()`; nil means zero.
        var gradient: Dense<S>?
        /// 1 where the element may be nonzero, 0 where it is pruned; nil means no mask.
        var mask: [S]?
    }

    private(set) var entries: [Entry]
    let index: [String: Int]

    /// The parameters of `graph` under `selection`, in initializer-name order.
    init(graph: Graph, selection: ParameterSelection) {
        let roles = ParameterDiscovery.roles(in: graph)
        entries = roles.keys.sorted().map { name in
            let role = roles[name]!
            return Entry(name: name, role: role, trainable: role != .statistic && selection.trains(name, role: role),
                         value: Dense(graph.initializers[name]!), gradient: nil, mask: nil)
        }
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($0.element.name, $0.offset) })
    }

    subscript(_ i: Int) -> Entry {
        get { entries[i] }
        _modify { yield &entries[i] }
    }

    var count: Int { entries.count }

    /// Adds `g` to entry `i`'s gradient (moved in when it is the first).
    func accumulateGradient(_ i: Int, _ g: Dense<S>) {
        precondition(g.count == entries[i].value.count, "gradient \(g.shape) for parameter \(entries[i].name) \(entries[i].value.shape)")
        if entries[i].gradient == nil {
            entries[i].gradient = g.reshaped(entries[i].value.shape)
        } else {
            entries[i].gradient!.add(g)
        }
    }

    /// Forgets all accumulated gradients.
    func zeroGradients() {
        for i in entries.indices { entries[i].gradient = nil }
    }

    /// Replaces entry `i`'s value (same element count), applying its mask.
    func setValue(_ i: Int, _ value: Dense<S>) {
        precondition(value.count == entries[i].value.count)
        entries[i].value = value.reshaped(entries[i].value.shape)
        applyMask(i)
    }

    /// Sets entry `i`'s mask (nil removes it) and zeroes the pruned elements of its value.
    func setMask(_ i: Int, _ mask: [S]?) {
        if let mask { precondition(mask.count == entries[i].value.count) }
        entries[i].mask = mask
        applyMask(i)
    }

    /// value ⊙= mask.
    func applyMask(_ i: Int) {
        guard let mask = entries[i].mask else { return }
        entries[i].value.data.withUnsafeMutableBufferPointer { v in
            for k in v.indices where mask[k] == 0 { v[k] = 0 }
        }
    }

    /// `graph` with every parameter's initializer replaced by its current value (float32).
    func write(into graph: Graph) -> Graph {
        var g = graph
        for e in entries { g.initializers[e.name] = e.value.tensor }
        return g
    }
}
