import SPDYGraph
import SPDYKernels
import SPDYTensor

/// Which values are stored other than token-major (`ActivationLayout`), between the steps that
/// can read and write them that way:
/// - feature-major ([features × tokens]): sparse Linear outputs read only by fused attention
///   (Q, K, V) or by other sparse Linear layers;
/// - token-blocked (blocks of tokens, each feature-major): values read only by sparse Linear
///   layers and LayerNorms, such as a transformer's residual stream, its FFN hidden layer and
///   the attention output; sparse layers read and write them in place (no transposes, no copies).
/// A producer asks before it is emitted; its readers find the value in `activationLayouts`
/// (aliases inherit it in `alias(_:to:)`).
extension PlanCompiler {
    /// The layout `value` is stored in.
    func layout(of value: String) -> ActivationLayout { activationLayouts[value] ?? .tokenMajor }

    /// Gives `value` (not yet placed) a buffer in `layout` for `tokens` × `features`, and returns
    /// the layout. Call before anything asks for the value's slot.
    mutating func reserve(_ value: String, _ layout: ActivationLayout, tokens: Int, features: Int) -> ActivationLayout {
        precondition(slots[value] == nil, "\(value) already has a slot")
        slots[value] = Slot(type: type(value), buffer: memory.reserve(layout.storage(tokens: tokens, features: features)), tensor: nil)
        activationLayouts[value] = layout
        return layout
    }

    /// A feature-major buffer with a padded row stride for `value` (see `reserve`).
    mutating func reserveFeatureMajor(_ value: String, tokens: Int, features: Int) -> ActivationLayout {
        reserve(value, .featureMajor(rowStride: ActivationLayout.paddedRowStride(tokens: tokens)), tokens: tokens, features: features)
    }

    /// The layout a Linear layer writes `value` ([tokens × features]) in: token-blocked when
    /// every reader takes that (and the layer is sparse or reads blocks, or a reader is sparse),
    /// feature-major when every reader takes that (sparse layers only), else token-major.
    mutating func linearOutputLayout(_ value: String, tokens: Int, features: Int, sparse: Bool,
                                     readsBlocks: Bool) -> ActivationLayout {
        if feedsOnlyTokenBlockedReaders(value, producerUsesBlocks: sparse || readsBlocks) {
            return reserve(value, .tokenBlocked(width: blockWidth), tokens: tokens, features: features)
        }
        if sparse && feedsOnlyFeatureMajorReaders(value) { return reserveFeatureMajor(value, tokens: tokens, features: features) }
        return .tokenMajor
    }

    /// Whether every reader of `value` takes it token-blocked (and nothing else can see it): a
    /// Linear layer (sparse or dense) reading it as its input, a LayerNorm step reading it as its
    /// input or residual, or an `Add` folded into such a LayerNorm. Blocks pay off around sparse
    /// layers only, so the producer must be a sparse Linear layer or itself read blocks, or a
    /// reader must be a sparse Linear layer: a dense model keeps token-major activations (one
    /// OpenBLAS product per layer), a mixed SPDY profile keeps its residual stream blocked across
    /// the layers left dense.
    func feedsOnlyTokenBlockedReaders(_ value: String, producerUsesBlocks: Bool) -> Bool {
        guard options.tokenBlocking, isPrivate(value), let users = consumers[value], !users.isEmpty else { return false }
        let accepted = users.allSatisfy { user in
            runsAsLinear(user, reading: value) != nil || layerNormReaders[value]?.contains(user) == true
                || residualAddNodes.contains(user) || isFoldedAway(user)
        }
        return accepted && (producerUsesBlocks || users.contains { runsAsLinear($0, reading: value) == true })
    }

    /// Whether `node` never runs because all its outputs are constants (a `Shape` of a value
    /// with a static shape): it does not read the value's data.
    func isFoldedAway(_ node: Int) -> Bool {
        graph.nodes[node].outputs.allSatisfy { $0.isEmpty || analysis.values[$0]?.constant != nil }
    }

    /// Whether a MatMul node runs on the sparse Linear kernel reading `value` as its left operand
    /// (a constant 2-D weight the sparse policy accepts; `emitMatMul` always emits such a node).
    func runsAsSparseLinear(_ index: Int, reading value: String) -> Bool { runsAsLinear(index, reading: value) == true }

    /// For a MatMul node that `emitMatMul` runs as a Linear step reading `value` as its left
    /// operand (a constant 2-D weight): whether it runs sparse; nil for any other node.
    func runsAsLinear(_ index: Int, reading value: String) -> Bool? {
        let node = graph.nodes[index]
        guard node.opType == "MatMul", node.inputs.count == 2, node.inputs[0] == value, node.inputs[1] != value,
              type(value).shape.count >= 2, type(value).dataType == .float32,
              let w = constant(node.inputs[1]), w.rank == 2, w.dataType == .float32,
              type(value).shape.last == w.shape[0] else { return nil }
        return options.sparseKernels.prefersSparse(density: Density.of(w.floats))
    }

    /// Whether every reader of `value` accepts it feature-major (and nothing else can see it): a
    /// sparse Linear layer, or a Reshape whose output is only a fused attention block's Q, K or V
    /// (the attention step reads the Linear output through it). Then the producer writes it
    /// feature-major and no one transposes it.
    func feedsOnlyFeatureMajorReaders(_ value: String) -> Bool {
        guard isPrivate(value), let users = consumers[value], !users.isEmpty else { return false }
        return users.allSatisfy { user in
            if runsAsSparseLinear(user, reading: value) || isFoldedAway(user) { return true }
            let node = graph.nodes[user]
            guard node.opType == "Reshape", node.inputs.first == value, let reshaped = node.outputs.first,
                  isPrivate(reshaped),
                  let fusion = attentionFusions.values.first(where: { [$0.q, $0.k, $0.v].contains(reshaped) }),
                  let readers = consumers[reshaped] else { return false }
            return readers.allSatisfy(fusion.nodes.contains)
        }
    }

    /// Whether a fused attention block's output ([B, S, H, D]) reaches only sparse Linear layers
    /// through Reshapes to [B·S… × H·D], so the attention step can write it feature-major.
    func attentionOutputFeedsOnlySparseLinear(_ f: AttentionFusion) -> Bool {
        guard isPrivate(f.output), let users = consumers[f.output], !users.isEmpty else { return false }
        return users.allSatisfy { user in
            let node = graph.nodes[user]
            guard node.opType == "Reshape", node.inputs.first == f.output, let merged = node.outputs.first,
                  type(merged).shape.last == f.heads * f.depth, isPrivate(merged),
                  let readers = consumers[merged], !readers.isEmpty else { return false }
            return readers.allSatisfy { runsAsSparseLinear($0, reading: merged) }
        }
    }
}
