import SPDYGraph
import SPDYKernels

/// Scaled-dot-product attention as BERT exports emit it (torch.onnx and our Hugging Face
/// importer), recognised so `FusedAttention` runs it as one step:
///
///     q4, k4, v4: [B, S, H, D] (reshaped Linear outputs)
///     scores  = MatMul(Transpose(q4, [0,2,1,3]), Transpose(k4, [0,2,3,1]))   [B, H, Sq, Sk]
///     scaled  = Mul(scores, c) or Div(scores, c)          (optional, c a constant scalar)
///     masked  = Add(scaled, mask)                         (optional, mask broadcast to [B, H, Sq, Sk])
///     probs   = Softmax(masked, axis = -1)
///     context = Transpose(MatMul(probs, Transpose(v4, [0,2,1,3])), [0,2,1,3])   [B, Sq, H, D]
///
/// Every intermediate must be read by the next node only (no graph output, no observed value).
struct AttentionFusion {
    /// The [B, S, H, D] query, key and value tensors.
    let q: String, k: String, v: String
    let mask: String?
    let maskLayout: FusedAttention.MaskLayout?
    let scale: Float
    /// The final Transpose: the step is emitted in its place and writes its output.
    let outputNode: Int
    let output: String
    let batch: Int, heads: Int, queries: Int, keys: Int, depth: Int
    /// Every node the fused step replaces, the final Transpose included.
    let nodes: [Int]
}

extension PlanCompiler {
    /// Finds every fusable attention block; marks its nodes fused except the last, where
    /// `emitAttention` puts the step.
    mutating func findAttentionFusions() throws {
        guard options.fuse else { return }
        let producers = graph.producers
        for index in analysis.order where graph.nodes[index].opType == "Softmax" {
            guard let fusion = try matchAttention(softmax: index, producers: producers) else { continue }
            attentionFusions[fusion.outputNode] = fusion
            fused.formUnion(fusion.nodes.filter { $0 != fusion.outputNode })
        }
    }

    mutating func emitAttention(_ f: AttentionFusion) {
        // Written the way its sparse readers take it best: token-blocked when every sequence
        // fits in a block, else feature-major.
        var out = ActivationLayout.tokenMajor
        if attentionOutputFeedsOnlySparseLinear(f) {
            let (tokens, features) = (f.batch * f.queries, f.heads * f.depth)
            out = options.tokenBlocking && blockWidth % f.queries == 0
                ? reserve(f.output, .tokenBlocked(width: blockWidth), tokens: tokens, features: features)
                : reserveFeatureMajor(f.output, tokens: tokens, features: features)
        }
        let attention = FusedAttention(batch: f.batch, heads: f.heads, queryLength: f.queries, keyLength: f.keys,
                                       depth: f.depth, scale: f.scale, maskLayout: f.maskLayout, threads: options.threads,
                                       layouts: (layout(of: f.q), layout(of: f.k), layout(of: f.v), out))
        steps.append(AttentionStep(nodeName: graph.nodes[f.outputNode].name, attention: attention,
                                   q: slot(for: f.q).buffer!, k: slot(for: f.k).buffer!, v: slot(for: f.v).buffer!,
                                   mask: f.mask.map { slot(for: $0).buffer! }, output: slot(for: f.output).buffer!))
    }

    /// The producer of `value` when `value` flows only into `consumer`.
    private func producer(of value: String, into consumer: Int, _ producers: [String: Int]) -> (index: Int, node: Node)? {
        guard soleConsumer(value) == consumer, let p = producers[value] else { return nil }
        return (p, graph.nodes[p])
    }

    /// A Transpose with permutation `perm` whose only reader is `consumer`: its input.
    private func transposeInput(_ value: String, perm: [Int], into consumer: Int, _ producers: [String: Int]) throws
        -> (index: Int, input: String)? {
        guard let t = producer(of: value, into: consumer, producers), t.node.opType == "Transpose",
              try t.node.ints("perm", default: nil) == perm, let x = t.node.input(0), type(x).dataType == .float32,
              type(x).shape.count == 4 else { return nil }
        return (t.index, x)
    }

    func matchAttention(softmax index: Int, producers: [String: Int]) throws -> AttentionFusion? {
        let softmax = graph.nodes[index]
        guard let input = softmax.input(0), type(input).dataType == .float32 else { return nil }
        let scoreShape = type(input).shape
        guard scoreShape.count == 4 else { return nil }
        var axis = try softmax.int("axis", default: graph.opsetVersion >= 13 ? -1 : 1)
        if axis < 0 { axis += 4 }
        guard axis == 3 else { return nil }
        let (batch, heads, queries, keys) = (scoreShape[0], scoreShape[1], scoreShape[2], scoreShape[3])
        var nodes = [index]

        // Softmax ← Add(mask) ← Mul/Div(scale) ← MatMul(q, kᵀ), each step optional but the product.
        var value = input, consumer = index
        var mask: String? = nil, maskLayout: FusedAttention.MaskLayout? = nil
        guard var node = producer(of: value, into: consumer, producers) else { return nil }
        if node.node.opType == "Add", node.node.inputs.count == 2 {
            let (a, b) = (node.node.inputs[0], node.node.inputs[1])
            let scoresSide = [a, b].first { type($0).shape == scoreShape && producers[$0].map { ["MatMul", "Mul", "Div"].contains(graph.nodes[$0].opType) } == true }
            guard let scores = scoresSide, a != b else { return nil }
            let m = scores == a ? b : a
            guard type(m).dataType == .float32, let layout = FusedAttention.MaskLayout(broadcasting: type(m).shape, to: scoreShape) else { return nil }
            (mask, maskLayout) = (m, layout)
            nodes.append(node.index)
            (value, consumer) = (scores, node.index)
            guard let next = producer(of: value, into: consumer, producers) else { return nil }
            node = next
        }
        var scale: Float = 1
        if ["Mul", "Div"].contains(node.node.opType), node.node.inputs.count == 2,
           let scores = node.node.inputs.first(where: { constant($0) == nil }),
           let c = scalarOperand(node.node, other: scores),
           node.node.opType == "Mul" || (node.node.inputs[0] == scores && c != 0) {
            scale = node.node.opType == "Div" ? 1 / c : c
            nodes.append(node.index)
            (value, consumer) = (scores, node.index)
            guard let next = producer(of: value, into: consumer, producers) else { return nil }
            node = next
        }
        guard node.node.opType == "MatMul", node.node.inputs.count == 2 else { return nil }
        nodes.append(node.index)
        guard let q = try transposeInput(node.node.inputs[0], perm: [0, 2, 1, 3], into: node.index, producers),
              let k = try transposeInput(node.node.inputs[1], perm: [0, 2, 3, 1], into: node.index, producers) else { return nil }
        nodes += [q.index, k.index]
        let depth = type(q.input).shape[3]
        guard type(q.input).shape == [batch, queries, heads, depth], type(k.input).shape == [batch, keys, heads, depth]
        else { return nil }

        // Softmax → MatMul(probs, vᵀ) → Transpose back to [B, Sq, H, D].
        guard let product = sole(softmax.outputs[0], "MatMul"), product.node.inputs.count == 2,
              product.node.inputs[0] == softmax.outputs[0],
              let v = try transposeInput(product.node.inputs[1], perm: [0, 2, 1, 3], into: product.index, producers),
              type(v.input).shape == [batch, keys, heads, depth],
              let back = sole(product.node.outputs[0], "Transpose"),
              try back.node.ints("perm", default: nil) == [0, 2, 1, 3],
              type(back.node.outputs[0]).shape == [batch, queries, heads, depth] else { return nil }
        nodes += [product.index, v.index, back.index]
        return AttentionFusion(q: q.input, k: k.input, v: v.input, mask: mask, maskLayout: maskLayout, scale: scale,
                               outputNode: back.index, output: back.node.outputs[0], batch: batch, heads: heads,
                               queries: queries, keys: keys, depth: depth, nodes: nodes)
    }
}
