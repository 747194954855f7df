import SPDYGraph
import SPDYKernels
import SPDYTensor

/// Which convolution activations are stored channel-blocked (NCHW16c, `ChannelBlocking`), so
/// that dense convolutions run on the direct kernel (`DirectConvolution`) with no im2col and no
/// layout changes between layers, as ONNX Runtime runs them.
///
/// The blocked values form regions decided before emission:
/// - producers: a dense convolution the direct kernel runs (with its folded BatchNorm), a
///   MaxPool, and the elementwise `Add`, `Relu` and `Clip` of same-shaped tensors;
/// - readers: such a convolution (its input), MaxPool, GlobalAveragePool (whose [N, C, 1, 1]
///   output is the same in both layouts) and the same elementwise nodes;
/// - a value is blocked only if it is private (not a graph output, not observed), 4-D with a
///   channel count that is a multiple of 16, made by a producer and read only by readers;
/// - an elementwise node, a MaxPool or a folded BatchNorm has all its tensors blocked or none
///   (those steps do not convert); a direct convolution reads NCHW or blocked data but writes
///   blocked data whenever it reads it, so each region starts at a convolution reading NCHW (a
///   network's stem) and ends at a pooling or where something else reads a convolution's input
///   or a pool's output.
/// A ResNet becomes one region from its stem to its global pooling. Sparse convolutions,
/// depthwise ones and everything else keep NCHW.
extension PlanCompiler {
    /// Operators whose emitted steps accept channel-blocked inputs (see the rules above).
    static let channelBlockedReaders: Set<String> = ["Conv", "MaxPool", "GlobalAveragePool", "Add", "Relu", "Clip"]

    /// The values stored blocked, and the convolutions that run on the direct kernel even when
    /// they read and write NCHW: those in a region of the model with every layer dense. The
    /// timing table times dense layers inside the dense model; a dense layer of a pruned model,
    /// between sparse (NCHW) neighbours, must run on the same kernel to take the time the table
    /// says (converting its input and output), while convolutions never in a region (between
    /// EfficientNet's depthwise layers) keep the NCHW path in both.
    func findChannelBlocking() throws -> (values: Set<String>, directWhenDense: Set<Int>) {
        guard directConvolutions else { return ([], []) }
        var direct: Set<Int> = [], directIfDense: Set<Int> = []
        for (index, node) in graph.nodes.enumerated() where node.opType == "Conv" {
            guard try canRunOnDirectKernel(index) else { continue }
            directIfDense.insert(index)
            if try !prunedToSparse(index) { direct.insert(index) }
        }
        let denseRegions = try findChannelBlockedValues(direct: directIfDense)
        let territory = directIfDense.filter { index in
            let node = graph.nodes[index]
            return denseRegions.contains(node.inputs[0]) || denseRegions.contains(node.outputs[0])
        }
        return (try findChannelBlockedValues(direct: direct), territory)
    }

    /// The blocked values when the convolutions `direct` run on the direct kernel.
    func findChannelBlockedValues(direct: Set<Int>) throws -> Set<String> {
        guard !direct.isEmpty else { return [] }
        var maxPools: Set<Int> = []
        for (index, node) in graph.nodes.enumerated() where node.opType == "MaxPool" {
            if let (_, kind) = try poolGeometry(node), case .max = kind { maxPools.insert(index) }
        }
        var producers: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { for output in node.outputs where !output.isEmpty { producers[output] = index } }

        func makesBlocked(_ value: String) -> Bool {
            guard let index = producers[value] else { return false }
            let node = graph.nodes[index]
            switch node.opType {
            case "Conv": return direct.contains(index) && node.outputs[0] == value
            case "BatchNormalization": return foldsIntoDirectConv(index, direct: direct)
            case "MaxPool": return maxPools.contains(index)
            case "Add", "Relu", "Clip": return isElementwise(index)
            default: return false
            }
        }
        func readsBlocked(_ index: Int, _ value: String) -> Bool {
            let node = graph.nodes[index]
            switch node.opType {
            case "Conv": return direct.contains(index) && node.inputs[0] == value && !node.inputs.dropFirst().contains(value)
            case "BatchNormalization": return foldsIntoDirectConv(index, direct: direct)
            case "MaxPool": return maxPools.contains(index)
            case "GlobalAveragePool": return node.inputs[0] == value
            case "Add", "Relu", "Clip": return isElementwise(index)
            default: return isFoldedAway(index)
            }
        }
        var blocked = Set(analysis.values.keys.filter { value in
            guard canBeChannelBlocked(value), makesBlocked(value), let users = consumers[value], !users.isEmpty else { return false }
            return users.allSatisfy { readsBlocked($0, value) }
        })
        // Elementwise nodes, pools and folded BatchNorms convert nothing: all their tensors
        // blocked, or none. A direct convolution reading a blocked value must write a blocked
        // one too: writing NCHW from the direct kernel scatters every result vector, slower than
        // the NCHW path it replaces (EfficientNet's expansion layers, measured).
        let allOrNothing = graph.nodes.indices.filter {
            maxPools.contains($0) || isElementwise($0) || (graph.nodes[$0].opType == "BatchNormalization" && foldsIntoDirectConv($0, direct: direct))
        }
        var changed = true
        while changed {
            changed = false
            for index in allOrNothing {
                let node = graph.nodes[index]
                let tensors = (node.opType == "Add" ? node.inputs : [node.inputs[0]]) + [node.outputs[0]]
                if tensors.contains(where: blocked.contains) && !tensors.allSatisfy(blocked.contains) {
                    blocked.subtract(tensors)
                    changed = true
                }
            }
            for index in direct {
                let node = graph.nodes[index]
                if blocked.contains(node.inputs[0]) && !blocked.contains(node.outputs[0]) {
                    blocked.remove(node.inputs[0])
                    changed = true
                }
            }
        }
        return blocked
    }

    /// Whether `value` may be stored NCHW16c at all: a private 4-D float activation whose
    /// channels fill whole blocks.
    func canBeChannelBlocked(_ value: String) -> Bool {
        guard isPrivate(value), let info = analysis.values[value], info.constant == nil,
              info.type.dataType == .float32, info.type.shape.count == 4 else { return false }
        return info.type.shape[1] % ChannelBlocking.width == 0 && info.type.shape[1] > 0
    }

    /// Whether Conv node `index` can run on the direct kernel when dense: constant weights (and
    /// bias), one group, 16-channel output blocks, no Pad folded into it.
    func canRunOnDirectKernel(_ index: Int) throws -> Bool {
        let node = graph.nodes[index]
        guard padFusions[index] == nil, let w = constant(node.input(1)), w.rank == 4, w.dataType == .float32,
              node.input(2).map({ constant($0) != nil }) ?? true,
              let g = try convGeometry(node, input: type(node.inputs[0]), outChannels: w.shape[0],
                                       kernel: [w.shape[2], w.shape[3]], groups: try node.int("group", default: 1)),
              w.shape[1] == g.inChannels else { return false }
        return DirectConvolution.supports(g, inputBlocked: false)
    }

    /// Whether Conv node `index`'s weights are sparse enough for the sparse kernels.
    func prunedToSparse(_ index: Int) throws -> Bool {
        guard let w = constant(graph.nodes[index].input(1)) else { return false }
        return options.sparseKernels.prefersSparse(density: Density.of(w.floats))
    }

    /// Whether BatchNormalization node `index` is folded into a direct convolution (as
    /// `emitConv` folds it): it is its convolution's sole reader.
    func foldsIntoDirectConv(_ index: Int, direct: Set<Int>) -> Bool {
        let node = graph.nodes[index]
        guard options.foldBatchNorm, let input = node.input(0), soleConsumer(input) == index,
              let conv = direct.first(where: { graph.nodes[$0].outputs[0] == input }),
              let affine = try? batchNormAffine(node) else { return false }
        return affine.0.count == type(input).shape[1] && graph.nodes[conv].opType == "Conv"
    }

    /// Whether node `index` is an `Add` of two same-shaped float tensors, or a `Relu`, or a
    /// `Clip` with constant bounds: steps that run on any layout their tensors share.
    func isElementwise(_ index: Int) -> Bool {
        let node = graph.nodes[index]
        guard let output = node.outputs.first, node.outputs.dropFirst().allSatisfy(\.isEmpty) else { return false }
        switch node.opType {
        case "Add":
            return node.inputs.count == 2 && node.inputs.allSatisfy { type($0).shape == type(output).shape && type($0).dataType == .float32 }
        case "Relu": return true
        case "Clip": return clipBounds(node) != nil
        default: return false
        }
    }
}
