import SPDYCore
import SPDYGraph
import SPDYTensor

/// Materialises a profile: the model with every listed layer's weight replaced by the
/// database's reconstruction at the profile's level. Layers at level 0 and layers the profile
/// does not list (excluded ones) keep their dense weights; BatchNorm keeps its statistics.
public enum Stitcher {
    /// The model pruned to `profile` from `database`.
    public static func stitch(_ graph: Graph, profile: Profile, database: ReconstructionDatabase) throws -> Graph {
        guard profile.grid == database.manifest.grid else {
            let kind = database.manifest.pattern.map { "; the database holds N:M \($0) levels (dense or \($0) per layer), not the levels an unstructured profile picks" } ?? ""
            throw PruningError.profile(layer: profile.layers.first?.layer.name ?? "-",
                                       reason: "the profile's grid differs from the database's (\(database.manifest.grid))\(kind)")
        }
        var weights: [String: [Float]] = [:]
        for entry in profile.layers where entry.level != .dense {
            guard database.manifest.layers.contains(entry.layer.name) else {
                throw PruningError.profile(layer: entry.layer.name, reason: "not in the database at \(database.directory)")
            }
            weights[entry.layer.name] = try database.layer(entry.layer.name).weights(level: entry.level.index)
        }
        return try replacing(weights: weights, in: graph)
    }

    /// `graph` with the named weights' values replaced (same shapes).
    public static func replacing(weights: [String: [Float]], in graph: Graph) throws -> Graph {
        var result = graph
        for (name, values) in weights {
            let old = try weight(name, in: result)
            guard old.count == values.count else {
                throw PruningError.profile(layer: name, reason: "\(values.count) weights for a tensor of shape \(old.shape)")
            }
            if result.initializers[name] == nil {
                result.nodes.removeAll { $0.opType == "Constant" && $0.outputs.first == name }
            }
            result.initializers[name] = Tensor(shape: old.shape, floats: values)
        }
        return result
    }

    /// The dense weight `name`: an initializer or the value of a `Constant` node.
    public static func weight(_ name: String, in graph: Graph) throws -> Tensor {
        if let tensor = graph.initializers[name] { return tensor }
        if let node = graph.nodes.first(where: { $0.opType == "Constant" && $0.outputs.first == name }),
           let tensor = try node.tensor("value"), tensor.dataType == .float32 {
            return tensor
        }
        throw PruningError.unsupportedLayer(layer: name, reason: "the weight is neither an initializer nor a Constant node")
    }
}
