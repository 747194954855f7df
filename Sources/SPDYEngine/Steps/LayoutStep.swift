import SPDYKernels
import SPDYTensor

/// A general axis permutation of a float tensor, copying with precomputed source strides.
final class TransposeStep: SingleInputStep {
    let nodeName: String
    let outShape: [Int]
    /// Source stride for each output axis.
    let sourceStrides: [Int]
    let input: Int, output: Int

    init(nodeName: String, inShape: [Int], permutation: [Int], input: Int, output: Int) {
        self.nodeName = nodeName
        let inStrides = Tensor.strides(inShape)
        self.outShape = permutation.map { inShape[$0] }
        self.sourceStrides = permutation.map { inStrides[$0] }
        self.input = input; self.output = output
    }

    var kernel: String { "Transpose" }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let x = UnsafePointer(memory.pointer(input)), y = memory.pointer(output)
        let rank = outShape.count
        if rank == 0 { y[0] = x[0]; return }
        let inner = outShape[rank - 1], innerStride = sourceStrides[rank - 1]
        let outer = outShape.reduce(1, *) / max(inner, 1)
        let (shape, strides) = (outShape, sourceStrides)
        pool.parallelFor(outer, grain: max(1, 2048 / max(inner, 1))) { range in
            for o in range {
                var rem = o, off = 0
                var d = rank - 2
                while d >= 0 {
                    off += (rem % shape[d]) * strides[d]
                    rem /= shape[d]
                    d -= 1
                }
                let dst = y + o * inner, src = x + off
                if innerStride == 1 {
                    dst.update(from: src, count: inner)
                } else {
                    for i in 0..<inner { dst[i] = src[i * innerStride] }
                }
            }
        }
    }
}

/// Concatenation of float tensors along one axis: block copies.
final class ConcatStep: PlanStep {
    let nodeName: String
    /// Product of the dimensions before the axis.
    let outer: Int
    /// Per input: elements per outer index (axis length × inner size).
    let blocks: [Int]
    let inputs: [Int], output: Int

    init(nodeName: String, outer: Int, blocks: [Int], inputs: [Int], output: Int) {
        self.nodeName = nodeName
        self.outer = outer; self.blocks = blocks
        self.inputs = inputs; self.output = output
    }

    var kernel: String { "Concat" }
    var readBuffers: [Int] { inputs }
    var writtenBuffers: [Int] { [output] }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let y = memory.pointer(output)
        let total = blocks.reduce(0, +)
        let sources = inputs.map { UnsafePointer(memory.pointer($0)) }
        let blocks = blocks
        pool.parallelFor(outer, grain: 1) { range in
            for o in range {
                var dst = y + o * total
                for (src, block) in zip(sources, blocks) {
                    dst.update(from: src + o * block, count: block)
                    dst += block
                }
            }
        }
    }
}

/// Copies a float buffer (an alias that must not share storage, e.g. a graph output that is
/// also an input).
final class CopyStep: SingleInputStep {
    let nodeName: String
    let count: Int
    let input: Int, output: Int

    init(nodeName: String, count: Int, input: Int, output: Int) {
        self.nodeName = nodeName
        self.count = count
        self.input = input; self.output = output
    }

    var kernel: String { "copy" }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        memory.pointer(output).update(from: memory.pointer(input), count: count)
    }
}
