import Foundation
import Testing
import SPDYEngine
import SPDYGraph
import SPDYKernels
import SPDYTensor

/// Fused attention: the kernel (both instruction sets) against a double-precision reference,
/// and the plan compiler's pattern against the reference interpreter running the unfused graph.
@Suite("Fused attention")
struct FusedAttentionTests {
    struct Case: CustomStringConvertible, Sendable {
        var batch: Int, heads: Int, queries: Int, keys: Int, depth: Int
        /// Mask shape right-aligned to [B, H, Sq, Sk]; nil for no mask.
        var mask: [Int]?
        var description: String { "\(batch)x\(heads) \(queries)x\(keys)x\(depth) mask \(mask.map { "\($0)" } ?? "none")" }
    }

    static let cases: [Case] = [
        Case(batch: 2, heads: 3, queries: 128, keys: 128, depth: 32, mask: [2, 1, 1, 128]),
        Case(batch: 1, heads: 2, queries: 17, keys: 17, depth: 64, mask: nil),
        Case(batch: 2, heads: 1, queries: 5, keys: 33, depth: 20, mask: [2, 1, 5, 33]),
        Case(batch: 1, heads: 2, queries: 9, keys: 70, depth: 70, mask: [1, 2, 9, 70]),
        Case(batch: 1, heads: 1, queries: 1, keys: 1, depth: 8, mask: [1]),
        Case(batch: 3, heads: 2, queries: 6, keys: 16, depth: 7, mask: [16]),
    ]

    static func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) - 0.5) * 2 * scale
        }
    }

    /// softmax(scale·QKᵀ + mask)·V in Double, [B, S, H·D] layout.
    static func reference(_ c: Case, q: [Float], k: [Float], v: [Float], mask: [Float]?, scale: Float) -> [Float] {
        let ld = c.heads * c.depth
        var out = [Float](repeating: 0, count: c.batch * c.queries * ld)
        let full = c.mask.map { [Int](repeating: 1, count: 4 - $0.count) + $0 } ?? [1, 1, 1, 1]
        func maskAt(_ b: Int, _ h: Int, _ i: Int, _ j: Int) -> Double {
            guard let mask else { return 0 }
            let idx = [b, h, i, j].enumerated().reduce(0) { acc, e in acc * full[e.offset] + (full[e.offset] == 1 ? 0 : e.element) }
            return Double(mask[idx])
        }
        for b in 0..<c.batch { for h in 0..<c.heads { for i in 0..<c.queries {
            var s = [Double](repeating: 0, count: c.keys)
            for j in 0..<c.keys {
                var dot = 0.0
                for d in 0..<c.depth {
                    dot += Double(q[(b * c.queries + i) * ld + h * c.depth + d]) * Double(k[(b * c.keys + j) * ld + h * c.depth + d])
                }
                s[j] = dot * Double(scale) + maskAt(b, h, i, j)
            }
            let m = s.max()!
            let e = s.map { Foundation.exp($0 - m) }, total = e.reduce(0, +)
            for d in 0..<c.depth {
                var acc = 0.0
                for j in 0..<c.keys { acc += e[j] * Double(v[(b * c.keys + j) * ld + h * c.depth + d]) }
                out[(b * c.queries + i) * ld + h * c.depth + d] = Float(acc / total)
            }
        } } }
        return out
    }

    /// An operand's layout in a kernel test: feature-major with row stride tokens + 5, or
    /// token-blocked with two sequences per block (so a batch item's block offset is not linear).
    enum Arrangement: String, CustomStringConvertible {
        case tokenMajor = "tm", featureMajor = "fm", blocked
        func layout(tokens: Int, sequence: Int) -> ActivationLayout {
            switch self {
            case .tokenMajor: return .tokenMajor
            case .featureMajor: return .featureMajor(rowStride: tokens + 5)
            case .blocked: return .tokenBlocked(width: 2 * sequence)
            }
        }
        var description: String { rawValue }
    }

    /// Layouts of Q, K, V and the output.
    static let layoutCombinations: [(q: Arrangement, k: Arrangement, v: Arrangement, out: Arrangement)] = [
        (.tokenMajor, .tokenMajor, .tokenMajor, .tokenMajor), (.featureMajor, .featureMajor, .featureMajor, .featureMajor),
        (.featureMajor, .tokenMajor, .featureMajor, .tokenMajor), (.tokenMajor, .featureMajor, .tokenMajor, .featureMajor),
        (.featureMajor, .featureMajor, .featureMajor, .blocked), (.blocked, .blocked, .tokenMajor, .blocked),
    ]

    @Test(arguments: KernelInstructionSet.available, [1, 2])
    func kernelEqualsReference(instructionSet: KernelInstructionSet, threads: Int) throws {
        for c in Self.cases { for layouts in Self.layoutCombinations {
            let ld = c.heads * c.depth
            let q = Self.random(c.batch * c.queries * ld, seed: 1, scale: 2)
            let k = Self.random(c.batch * c.keys * ld, seed: 2, scale: 2)
            let v = Self.random(c.batch * c.keys * ld, seed: 3)
            // A padding-style mask: large negative on some keys, small values elsewhere.
            let maskValues = c.mask.map { shape in
                Self.random(shape.reduce(1, *), seed: 4).enumerated().map { $0.offset % 7 == 3 ? -10_000 : $0.element }
            }
            let scale = 1 / Float(c.depth).squareRoot()
            let layout = try c.mask.map { shape in
                try #require(FusedAttention.MaskLayout(broadcasting: shape, to: [c.batch, c.heads, c.queries, c.keys]))
            }
            let (tq, tk) = (c.batch * c.queries, c.batch * c.keys)
            let (lq, lk) = (layouts.q.layout(tokens: tq, sequence: c.queries), layouts.k.layout(tokens: tk, sequence: c.keys))
            let (lv, lo) = (layouts.v.layout(tokens: tk, sequence: c.keys), layouts.out.layout(tokens: tq, sequence: c.queries))
            let attention = FusedAttention(batch: c.batch, heads: c.heads, queryLength: c.queries, keyLength: c.keys,
                                           depth: c.depth, scale: scale, maskLayout: layout, threads: threads,
                                           layouts: (lq, lk, lv, lo))
            // Padding is NaN: the kernel must never read it.
            let qIn = lq.arrange(q, tokens: tq, features: ld), kIn = lk.arrange(k, tokens: tk, features: ld)
            let vIn = lv.arrange(v, tokens: tk, features: ld)
            var out = [Float](repeating: .nan, count: lo.storage(tokens: tq, features: ld))
            let pool = ThreadPool(threads: threads)
            qIn.withUnsafeBufferPointer { qp in kIn.withUnsafeBufferPointer { kp in vIn.withUnsafeBufferPointer { vp in
                out.withUnsafeMutableBufferPointer { op in
                    if let maskValues {
                        maskValues.withUnsafeBufferPointer { mp in
                            attention.run(q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, mask: mp.baseAddress!,
                                          out: op.baseAddress!, pool: pool, instructionSet: instructionSet)
                        }
                    } else {
                        attention.run(q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, mask: nil,
                                      out: op.baseAddress!, pool: pool, instructionSet: instructionSet)
                    }
                }
            } } }
            let want = lo.arrange(Self.reference(c, q: q, k: k, v: v, mask: maskValues, scale: scale), tokens: tq, features: ld)
            // Padding positions are NaN on both sides (never written); compare the others.
            let error = zip(out, want).filter { !$0.1.isNaN }.map { abs($0 - $1) }.max() ?? 0
            #expect(!zip(out, want).contains { !$0.1.isNaN && $0.0.isNaN }, "\(instructionSet) \(c) \(layouts): NaN output")
            #expect(error <= 2e-6, "\(instructionSet) \(c) \(layouts): max error \(error)")
        } }
    }

    /// The attention block as torch exports BERT: Reshape/Transpose into heads, MatMul, scale
    /// (Div or Mul), Add mask, Softmax, MatMul, Transpose/Reshape back.
    static func attentionGraph(batch: Int, seq: Int, heads: Int, depth: Int, divide: Bool, mask: Bool,
                               probsAsOutput: Bool = false) -> Graph {
        let hidden = heads * depth
        var nodes: [Node] = []
        let initializers: [String: Tensor] = [
            "split": Tensor(int64s: [Int64(batch), Int64(seq), Int64(heads), Int64(depth)]),
            "merge": Tensor(int64s: [Int64(batch), Int64(seq), Int64(hidden)]),
            "scale": Tensor(scalar: divide ? Float(depth).squareRoot() : 1 / Float(depth).squareRoot()),
        ]
        for (name, perm) in [("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])] {
            nodes.append(Node(name: "\(name)/Reshape", opType: "Reshape", inputs: [name, "split"], outputs: ["\(name)4"]))
            nodes.append(Node(name: "\(name)/Transpose", opType: "Transpose", inputs: ["\(name)4"], outputs: ["\(name)t"],
                              attributes: ["perm": .ints(perm)]))
        }
        nodes.append(Node(name: "MatMul", opType: "MatMul", inputs: ["qt", "kt"], outputs: ["scores"]))
        nodes.append(Node(name: "Scale", opType: divide ? "Div" : "Mul", inputs: ["scores", "scale"], outputs: ["scaled"]))
        var logits = "scaled"
        if mask {
            nodes.append(Node(name: "Add", opType: "Add", inputs: ["mask", "scaled"], outputs: ["masked"]))
            logits = "masked"
        }
        nodes.append(Node(name: "Softmax", opType: "Softmax", inputs: [logits], outputs: ["probs"], attributes: ["axis": .int(-1)]))
        nodes.append(Node(name: "MatMul_1", opType: "MatMul", inputs: ["probs", "vt"], outputs: ["context"]))
        nodes.append(Node(name: "Transpose_out", opType: "Transpose", inputs: ["context"], outputs: ["merged"],
                          attributes: ["perm": .ints([0, 2, 1, 3])]))
        nodes.append(Node(name: "Reshape_out", opType: "Reshape", inputs: ["merged", "merge"], outputs: ["y"]))
        var inputs = ["q", "k", "v"].map { ValueInfo(name: $0, dataType: .float32, shape: [batch, seq, hidden].map { .fixed($0) }) }
        if mask { inputs.append(ValueInfo(name: "mask", dataType: .float32, shape: [batch, 1, 1, seq].map { .fixed($0) })) }
        var outputs = [ValueInfo(name: "y", dataType: .float32, shape: nil)]
        if probsAsOutput { outputs.append(ValueInfo(name: "probs", dataType: .float32, shape: nil)) }
        return Graph(name: "attention", inputs: inputs, outputs: outputs, initializers: initializers, nodes: nodes, opsetVersion: 17)
    }

    @Test(arguments: [(true, true, false), (false, false, false), (true, true, true)])
    func planFusesTheExportedPattern(divide: Bool, mask: Bool, probsAsOutput: Bool) throws {
        let (batch, seq, heads, depth) = (2, 24, 3, 16)
        let graph = Self.attentionGraph(batch: batch, seq: seq, heads: heads, depth: depth, divide: divide, mask: mask,
                                        probsAsOutput: probsAsOutput)
        var feeds: [String: Tensor] = [:]
        for (i, name) in ["q", "k", "v"].enumerated() {
            feeds[name] = Tensor(shape: [batch, seq, heads * depth], floats: Self.random(batch * seq * heads * depth, seed: UInt64(10 + i), scale: 2))
        }
        if mask {
            feeds["mask"] = Tensor(shape: [batch, 1, 1, seq], floats: (0..<batch * seq).map { $0 % seq >= seq - 5 - $0 / seq ? -3.4e38 : 0 })
        }
        let plan = try ExecutionPlan(graph: graph, options: EngineOptions(threads: 2))
        let fusedSteps = plan.stepDescriptions.filter { $0.kernel.hasPrefix("Attention fused") }
        #expect(fusedSteps.count == (probsAsOutput ? 0 : 1), "\(plan.stepDescriptions.map(\.kernel))")
        let got = try #require(try plan.run(feeds)["y"])
        let want = try #require(try ReferenceInterpreter.run(graph, feeds: feeds)["y"])
        let error = zip(got.floats, want.floats).map { abs($0 - $1) }.max() ?? .infinity
        #expect(got.shape == [batch, seq, heads * depth])
        #expect(error <= 1e-5, "max error \(error)")
    }
}
