import SPDYKernels

/// A whole attention block (scores, scale, mask, softmax, context, and the transposes into and
/// out of heads) on `FusedAttention`; q, k, v and the output are [batch × tokens × heads·depth].
final class AttentionStep: PlanStep {
    let nodeName: String
    let attention: FusedAttention
    let q: Int, k: Int, v: Int, mask: Int?, output: Int

    init(nodeName: String, attention: FusedAttention, q: Int, k: Int, v: Int, mask: Int?, output: Int) {
        self.nodeName = nodeName
        self.attention = attention
        self.q = q; self.k = k; self.v = v; self.mask = mask; self.output = output
    }

    var kernel: String {
        let a = attention
        let inTag = [a.layouts.q, a.layouts.k, a.layouts.v].map(\.tag).first { !$0.isEmpty }
        return "Attention fused[\(a.batch)x\(a.heads)] \(a.queryLength)x\(a.keyLength)x\(a.depth)\(mask != nil ? "+mask" : "")"
            + (inTag.map { " \($0)-in" } ?? "") + (a.layouts.out.tag.isEmpty ? "" : " \(a.layouts.out.tag)-out")
    }
    var readBuffers: [Int] { [q, k, v] + (mask.map { [$0] } ?? []) }
    var writtenBuffers: [Int] { [output] }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        attention.run(q: memory.pointer(q), k: memory.pointer(k), v: memory.pointer(v),
                      mask: mask.map { UnsafePointer(memory.pointer($0)) }, out: memory.pointer(output), pool: pool)
    }
}
