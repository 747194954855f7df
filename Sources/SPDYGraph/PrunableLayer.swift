import SPDYTensor

/// A layer SPDY can prune: a Conv, or a Gemm/MatMul whose weight is a constant.
///
/// Its stable identity is the weight's value name (the initializer name, e.g.
/// `layer1.0.conv1.weight`), which survives re-export and node renaming.
public struct PrunableLayer: Sendable, Hashable {
    /// The weight's value name: the layer's stable ID.
    public var id: String
    /// The node that applies the weight.
    public var node: String
    /// `Conv`, `Gemm` or `MatMul`.
    public var opType: String
    /// The weight's shape as stored (OIHW for Conv; [K, N] for MatMul; Gemm as its transB says).
    public var weightShape: [Int]
    /// The layer's input and output value names.
    public var input: String, output: String
    /// The number of weights.
    public var parameters: Int { weightShape.reduce(1, *) }
    /// Multiply-accumulates for the analysed input shapes (dense).
    public var macs: Int
    /// Floating-point operations (2 per multiply-accumulate), dense.
    public var flops: Int { 2 * macs }
}

extension PrunableLayer {
    /// Finds every prunable layer of `graph`, in execution order, using `analysis` for shapes.
    /// `Conv` weights must be rank 4 (or 3 for 1-D); Gemm/MatMul weights rank 2.
    public static func discover(in graph: Graph, analysis: StaticAnalysis) -> [PrunableLayer] {
        var layers: [PrunableLayer] = []
        for index in analysis.order {
            let node = graph.nodes[index]
            guard ["Conv", "Gemm", "MatMul"].contains(node.opType), node.domain.isEmpty,
                  let weightName = node.input(1), let input = node.input(0),
                  let weight = analysis.values[weightName], weight.constant != nil,
                  analysis.values[input]?.constant == nil,
                  weight.type.dataType == .float32,
                  let output = node.outputs.first, let outType = analysis.values[output]?.type else { continue }
            let w = weight.type.shape
            var macs = 0
            switch node.opType {
            case "Conv":
                guard w.count >= 3 else { continue }
                // Each output element takes (C/g)·kh·kw multiply-accumulates.
                macs = outType.count * w.dropFirst().reduce(1, *)
            default:
                guard w.count == 2 else { continue }
                let transB = (try? node.int("transB", default: 0)) ?? 0
                let k = transB != 0 ? w[1] : w[0]
                macs = outType.count * k
            }
            layers.append(PrunableLayer(id: weightName, node: node.name, opType: node.opType, weightShape: w,
                                        input: input, output: output, macs: macs))
        }
        return layers
    }
}
