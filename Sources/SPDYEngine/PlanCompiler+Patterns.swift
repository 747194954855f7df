import SPDYGraph
import SPDYKernels
import SPDYTensor

/// Recognisers for multi-node patterns exporters emit for one logical operation, so the engine
/// runs them as one kernel: LayerNorm decomposed into ReduceMean/Sub/Pow/…, and exact GELU as
/// Div/Erf/Add/Mul/Mul.
extension PlanCompiler {
    /// The single constant scalar input of `node` other than `value`, if any.
    func scalarOperand(_ node: Node, other value: String) -> Float? {
        guard node.inputs.count == 2 else { return nil }
        let name = node.inputs[0] == value ? node.inputs[1] : node.inputs[1] == value ? node.inputs[0] : nil
        guard let c = constant(name), c.count == 1, c.dataType == .float32 else { return nil }
        return c.floats[0]
    }

    /// The node consuming `value` when it is the only consumer and has type `opType`.
    func sole(_ value: String, _ opType: String) -> (index: Int, node: Node)? {
        guard let i = soleConsumer(value), graph.nodes[i].opType == opType else { return nil }
        return (i, graph.nodes[i])
    }

    /// Exact GELU starting at `value`: Div(value, √2) → Erf → Add 1 → Mul(value, ·) → Mul 0.5
    /// (in either operand order). Returns the fused nodes and the final output.
    func matchGELU(after value: String) -> (nodes: [Int], output: String)? {
        guard isPrivate(value), let users = consumers[value], users.count == 2 else { return nil }
        guard let divIndex = users.first(where: { graph.nodes[$0].opType == "Div" }) else { return nil }
        let div = graph.nodes[divIndex]
        guard div.inputs.first == value, let s = scalarOperand(div, other: value), abs(s - 1.4142135) < 1e-4,
              let erf = sole(div.outputs[0], "Erf"),
              let add = sole(erf.node.outputs[0], "Add"), scalarOperand(add.node, other: erf.node.outputs[0]) == 1,
              let mul = sole(add.node.outputs[0], "Mul"), users.contains(mul.index),
              Set(mul.node.inputs) == Set([value, add.node.outputs[0]]),
              let half = sole(mul.node.outputs[0], "Mul"), scalarOperand(half.node, other: mul.node.outputs[0]) == 0.5
        else { return nil }
        return ([divIndex, erf.index, add.index, mul.index, half.index], half.node.outputs[0])
    }

    /// The reduced axes of a ReduceMean node (attribute before opset 18, input from 18).
    func reduceAxes(_ node: Node, rank: Int) -> [Int]? {
        var axes: [Int]?
        if let name = node.input(1) {
            axes = constant(name).map { $0.integers.map { Int($0) } }
        } else {
            axes = (try? node.ints("axes")) ?? nil
        }
        return axes?.map { $0 < 0 ? $0 + rank : $0 }
    }

    /// LayerNorm over the last axis as torch exports it below opset 17:
    /// mean = ReduceMean(x); d = x − mean; var = ReduceMean(d^2); y = d / √(var + ε) · γ + β.
    /// A LayerNorm found in the graph: the nodes it covers, its input and output, its parameters.
    struct LayerNormMatch {
        var nodes: [Int]
        var input: String, output: String
        var width: Int, epsilon: Float
        var scale: [Float], bias: [Float]
    }

    /// LayerNorm decomposed as ReduceMean → Sub → Pow 2 → ReduceMean → Add ε → Sqrt → Div, with
    /// an optional constant Mul (scale) and Add (bias), starting at the ReduceMean `reduce`.
    func matchDecomposedLayerNorm(_ reduce: Node, index: Int) -> LayerNormMatch? {
        guard options.fuse, let x = reduce.input(0) else { return nil }
        let xt = type(x)
        let rank = xt.shape.count
        guard rank >= 1, xt.dataType == .float32, reduceAxes(reduce, rank: rank) == [rank - 1],
              (try? reduce.int("keepdims", default: 1)) == 1,
              let sub = sole(reduce.outputs[0], "Sub"), sub.node.inputs == [x, reduce.outputs[0]] else { return nil }
        let d = sub.node.outputs[0]
        guard let users = consumers[d], users.count == 2, isPrivate(d),
              let powIndex = users.first(where: { graph.nodes[$0].opType == "Pow" }),
              let divIndex = users.first(where: { graph.nodes[$0].opType == "Div" }) else { return nil }
        let pow = graph.nodes[powIndex], div = graph.nodes[divIndex]
        guard pow.inputs.first == d, scalarOperand(pow, other: d) == 2,
              let reduce2 = sole(pow.outputs[0], "ReduceMean"), reduceAxes(reduce2.node, rank: rank) == [rank - 1],
              let addEps = sole(reduce2.node.outputs[0], "Add"),
              let eps = scalarOperand(addEps.node, other: reduce2.node.outputs[0]),
              let sqrt = sole(addEps.node.outputs[0], "Sqrt"),
              div.inputs == [d, sqrt.node.outputs[0]], soleConsumer(sqrt.node.outputs[0]) == divIndex else { return nil }
        let width = xt.shape[rank - 1]
        var nodes = [index, sub.index, powIndex, reduce2.index, addEps.index, sqrt.index, divIndex]
        var output = div.outputs[0]
        var scale = [Float](repeating: 1, count: width), bias = [Float](repeating: 0, count: width)
        if let mul = sole(output, "Mul") {
            let other = mul.node.inputs[0] == output ? mul.node.input(1) : mul.node.input(0)
            if let g = constant(other), g.dataType == .float32, g.count == width, g.shape.last == width {
                scale = g.floats
                nodes.append(mul.index)
                output = mul.node.outputs[0]
                if let add = sole(output, "Add") {
                    let other = add.node.inputs[0] == output ? add.node.input(1) : add.node.input(0)
                    if let b = constant(other), b.dataType == .float32, b.count == width, b.shape.last == width {
                        bias = b.floats
                        nodes.append(add.index)
                        output = add.node.outputs[0]
                    }
                }
            }
        }
        guard type(output).shape == xt.shape else { return nil }
        return LayerNormMatch(nodes: nodes, input: x, output: output, width: width, epsilon: eps, scale: scale, bias: bias)
    }

    mutating func emitDecomposedLayerNorm(_ reduce: Node, index: Int) throws -> Bool {
        guard let m = matchDecomposedLayerNorm(reduce, index: index) else { return false }
        fused.formUnion(m.nodes)
        emitLayerNormStep(nodeName: reduce.name, input: m.input, output: m.output, width: m.width, epsilon: m.epsilon,
                          scale: m.scale, bias: m.bias)
        return true
    }

    /// A LayerNorm step; when its input is a residual sum found by `findResidualLayerNorms`,
    /// the step adds the two operands itself.
    mutating func emitLayerNormStep(nodeName: String, input: String, output: String, width: Int, epsilon: Float,
                                    scale: [Float], bias: [Float]) {
        let rows = type(input).count / max(width, 1)
        let operands = residualSums[input]
        let (x, r) = (operands?.a ?? input, operands?.b)
        let readsBlocks = layout(of: x).tokenBlockWidth != nil || r.map { layout(of: $0).tokenBlockWidth != nil } == true
        let outputLayout = feedsOnlyTokenBlockedReaders(output, producerUsesBlocks: readsBlocks)
            ? reserve(output, .tokenBlocked(width: blockWidth), tokens: rows, features: width) : .tokenMajor
        steps.append(LayerNormStep(nodeName: nodeName, rows: rows, width: width, epsilon: epsilon, scale: scale, bias: bias,
                                   input: slot(for: x).buffer!, residual: r.map { slot(for: $0).buffer! },
                                   output: slot(for: output).buffer!,
                                   layouts: (layout(of: x), r.map(layout(of:)) ?? .tokenMajor, outputLayout),
                                   threads: options.threads))
    }

    /// Residual connections: `Add(a, b)` of two runtime tensors of one shape read only by a
    /// LayerNorm (native or decomposed). The Add is folded into the LayerNorm step.
    mutating func findResidualLayerNorms() {
        guard options.fuse else { return }
        let producers = graph.producers
        for index in analysis.order {
            let node = graph.nodes[index]
            let covered: Set<Int>, x: String
            if node.opType == "ReduceMean", let m = matchDecomposedLayerNorm(node, index: index) {
                (covered, x) = (Set(m.nodes), m.input)
            } else if node.opType == "LayerNormalization", let input = node.input(0), layerNormParameters(node) != nil {
                (covered, x) = ([index], input)
            } else {
                continue
            }
            layerNormReaders[x] = covered
            guard isPrivate(x), let users = consumers[x],
                  Set(users).isSubset(of: covered), let p = producers[x], graph.nodes[p].opType == "Add" else { continue }
            let add = graph.nodes[p]
            guard add.inputs.count == 2, add.inputs[0] != add.inputs[1],
                  add.inputs.allSatisfy({ type($0).shape == type(x).shape && type($0).dataType == .float32 && constant($0) == nil })
            else { continue }
            residualSums[x] = (add.inputs[0], add.inputs[1])
            residualAddNodes.insert(p)
            fused.insert(p)
        }
    }
}

extension PlanCompiler {
    /// Gather on axis 0 from a constant float table with runtime integer indices.
    mutating func emitGatherRows(_ node: Node) -> Bool {
        guard let table = constant(node.input(0)), table.dataType == .float32, table.rank >= 1,
              let ids = node.input(1), constant(ids) == nil, type(ids).dataType.isInteger,
              (try? node.int("axis", default: 0)) == 0 else { return false }
        guard let indices = slot(for: ids).tensor, let output = slot(for: node.outputs[0]).buffer else { return false }
        steps.append(GatherRowsStep(nodeName: node.name, table: table, indices: indices, output: output))
        return true
    }

    /// Where with a runtime boolean condition and float operands.
    mutating func emitWhere(_ node: Node) -> Bool {
        guard node.inputs.count == 3, let c = node.input(0), constant(c) == nil, type(c).dataType == .bool,
              let x = node.input(1), let y = node.input(2),
              type(x).dataType == .float32, type(y).dataType == .float32 else { return false }
        let out = type(node.outputs[0]).shape
        guard let condition = slot(for: c).tensor, let xb = slot(for: x).buffer, let yb = slot(for: y).buffer,
              let output = slot(for: node.outputs[0]).buffer else { return false }
        steps.append(WhereStep(nodeName: node.name, condition: condition, conditionIndices: broadcastIndices(c, to: out), x: xb,
                               xIndices: broadcastIndices(x, to: out), y: yb, yIndices: broadcastIndices(y, to: out),
                               count: type(node.outputs[0]).count,
                               output: output))
        return true
    }
}

extension PlanCompiler {
    /// And/Or/Xor of boolean runtime tensors, and Expand of a non-float runtime tensor to a
    /// constant shape.
    mutating func emitBoolBroadcast(_ node: Node) -> Bool {
        guard let operation = BoolBroadcastStep.Operation(rawValue: node.opType.lowercased()),
              let out = node.outputs.first, analysis.values[out] != nil else { return false }
        let shape = type(out).shape
        var names: [String]
        if operation == .expand {
            guard let x = node.input(0), let s = node.input(1), constant(s) != nil, constant(x) == nil,
                  type(x).dataType != .float32 else { return false }
            names = [x]
        } else {
            guard node.inputs.count == 2, node.inputs.allSatisfy({ type($0).dataType == .bool }),
                  node.inputs.contains(where: { constant($0) == nil }) else { return false }
            names = node.inputs
        }
        let indices = names.map { broadcastIndices($0, to: shape) }
        let slots = names.map { slot(for: $0).tensor }
        guard slots.allSatisfy({ $0 != nil }), let output = slot(for: out).tensor else { return false }
        steps.append(BoolBroadcastStep(nodeName: node.name, operation: operation, operands: slots.map { $0! },
                                       sourceIndices: indices, shape: shape, output: output))
        return true
    }
}
