import Foundation
import SPDYEngine
import SPDYKernels

/// One layer shape the kernel benchmark measures.
struct KernelBenchShape: Sendable {
    enum Kind: Sendable {
        /// tokens × in → out.
        case linear(tokens: Int, inFeatures: Int, outFeatures: Int)
        case convolution(ConvGeometry)
    }
    var suite: String
    var name: String
    var kind: Kind

    /// Multiply-accumulates of the dense layer.
    var macs: Int {
        switch kind {
        case .linear(let t, let i, let o): return t * i * o
        case .convolution(let g): return g.macs
        }
    }

    /// BERT-base (768 → 768, 768 → 3072, 3072 → 768 at 128 and 1024 tokens), MiniLM-L6
    /// (384 → 384, 384 → 1536, 1536 → 384 at 128 and 1024 tokens) and the distinct convolutions of
    /// ResNet-50 at batch 16.
    static func standard(resnetBatch: Int = 16) -> [KernelBenchShape] {
        var shapes: [KernelBenchShape] = []
        for (suite, hidden) in [("bert-base", 768), ("minilm", 384)] {
            for tokens in [128, 1024] {
                for (i, o) in [(hidden, hidden), (hidden, 4 * hidden), (4 * hidden, hidden)] {
                    shapes.append(KernelBenchShape(suite: suite, name: "\(suite) \(i)->\(o) x\(tokens)",
                                                   kind: .linear(tokens: tokens, inFeatures: i, outFeatures: o)))
                }
            }
        }
        // (in channels, out channels, kernel, stride, input size) of every distinct ResNet-50 convolution.
        let convs: [(Int, Int, Int, Int, Int)] = [
            (3, 64, 7, 2, 224),
            (64, 64, 1, 1, 56), (64, 64, 3, 1, 56), (64, 256, 1, 1, 56), (256, 64, 1, 1, 56),
            (256, 128, 1, 1, 56), (128, 128, 3, 2, 56), (128, 512, 1, 1, 28), (256, 512, 1, 2, 56),
            (512, 128, 1, 1, 28), (128, 128, 3, 1, 28),
            (512, 256, 1, 1, 28), (256, 256, 3, 2, 28), (256, 1024, 1, 1, 14), (512, 1024, 1, 2, 28),
            (1024, 256, 1, 1, 14), (256, 256, 3, 1, 14),
            (1024, 512, 1, 1, 14), (512, 512, 3, 2, 14), (512, 2048, 1, 1, 7), (1024, 2048, 1, 2, 14),
            (2048, 512, 1, 1, 7), (512, 512, 3, 1, 7),
        ]
        for (c, m, k, s, size) in convs {
            let pad = k / 2
            let g = ConvGeometry(batch: resnetBatch, inChannels: c, inHeight: size, inWidth: size, outChannels: m,
                                 kernelHeight: k, kernelWidth: k, strideH: s, strideW: s,
                                 padTop: pad, padLeft: pad, padBottom: pad, padRight: pad)
            shapes.append(KernelBenchShape(suite: "resnet50", name: "resnet50 \(c)->\(m) \(k)x\(k)/\(s) @\(size) b\(resnetBatch)",
                                           kind: .convolution(g)))
        }
        return shapes
    }
}

/// One benchmark record: a layer at a sparsity, dense and sparse time measured side by side.
struct KernelBenchRecord: Encodable {
    var layer: String
    var suite: String
    var sparsity: Double
    var threads: Int
    var method: String
    var dense_ms: Double
    var sparse_ms: Double
    var speedup: Double
    /// The instruction set of `sparse_ms` (the engine's default on this CPU).
    var instruction_set: String
    /// The same sparse kernel forced to AVX2, when the default is wider (same run).
    var sparse_avx2_ms: Double?
    /// Linear layers: the sparse kernel reading and writing token-blocked activations, as the
    /// engine runs it between sparse layers and LayerNorms (no transposes), and its speedup.
    var sparse_blocked_ms: Double? = nil
    var blocked_speedup: Double? = nil
    /// Dense-equivalent rate of each: dense FLOPs / time.
    var dense_gflops: Double
    var sparse_effective_gflops: Double
    /// Useful rate of the sparse kernel: 2 · nonzeros · columns / time.
    var sparse_nonzero_gflops: Double
}

/// Times one layer dense (OpenBLAS) and sparse at each sparsity, on random data with
/// magnitude-pruned random weights.
struct KernelBenchmark {
    var threads: Int
    var warmup: Int
    var repetitions: Int

    func run(_ shape: KernelBenchShape, sparsities: [Double], report: (KernelBenchRecord) -> Void) {
        let pool = ThreadPool(threads: threads)
        var rng = SystemRandomNumberGenerator()
        let flops = 2 * Double(shape.macs)
        switch shape.kind {
        case .linear(let tokens, let inF, let outF):
            let x = randomBuffer(tokens * inF, &rng), w = randomBuffer(inF * outF, &rng)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: tokens * outF)
            defer { x.deallocate(); w.deallocate(); y.deallocate() }
            // Dense: Y = X · Wᵀ through OpenBLAS on the pool (W stored [out × in]).
            let dense = time {
                GEMM.sgemm(pool: pool, transB: true, m: tokens, n: outF, k: inF, a: x, lda: inF, b: w, ldb: inF, c: y, ldc: outF)
            }
            let order = magnitudeOrder(w, count: inF * outF)
            for s in sparsities {
                prune(w, order, sparsity: s)
                let make = { SparseLinear(weight: w, inFeatures: inF, outFeatures: outF, transposed: false, threads: self.threads) }
                let layer = make(), narrow = avx2Variant(make)
                let (sparse, avx2) = timeSparse({ layer.run(n: tokens, x: x, y: y, epilogue: .identity, pool: pool) },
                                                narrow.map { l in { l.run(n: tokens, x: x, y: y, epilogue: .identity, pool: pool) } })
                var r = record(shape, s, "linear", dense, sparse, avx2, flops, 2 * Double(layer.matrix.nonzeros * tokens))
                let blockedLayout = ActivationLayout.tokenBlocked(width: ActivationLayout.blockWidth)
                let blockedLayer = SparseLinear(weight: w, inFeatures: inF, outFeatures: outF, transposed: false, threads: threads,
                                                input: blockedLayout, output: blockedLayout)
                // 64-byte aligned, as the engine's buffers are.
                let arranged = blockedLayout.arrange(Array(UnsafeBufferPointer(start: x, count: tokens * inF)), tokens: tokens,
                                                     features: inF, padding: 0)
                let blockedX = AlignedFloats.allocate(arranged.count)
                blockedX.initialize(from: arranged, count: arranged.count)
                let blockedY = AlignedFloats.allocate(blockedLayout.storage(tokens: tokens, features: outF))
                defer { blockedX.deallocate(); blockedY.deallocate() }
                let blocked = time { blockedLayer.run(n: tokens, x: blockedX, y: blockedY, epilogue: .identity, pool: pool) }
                (r.sparse_blocked_ms, r.blocked_speedup) = (blocked, dense / blocked)
                report(r)
            }
        case .convolution(let g):
            let inCount = g.batch * g.inChannels * g.inHeight * g.inWidth
            let x = randomBuffer(inCount, &rng), w = randomBuffer(g.outChannels * g.patchSize, &rng)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: g.batch * g.outChannels * g.outHeight * g.outWidth)
            let plane = g.outHeight * g.outWidth
            let columns = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.patchSize * plane * threads)
            defer { x.deallocate(); w.deallocate(); y.deallocate(); columns?.deallocate() }
            // Dense: im2col + OpenBLAS sgemm per image, images spread over the threads.
            let dense = time {
                pool.parallelChunks(g.batch) { chunk, images in
                    for n in images {
                        let src = x + n * g.inChannels * g.inHeight * g.inWidth
                        var b = UnsafePointer(src)
                        if let columns {
                            let mine = columns + chunk * g.patchSize * plane
                            Im2col.unfold(g, input: src, columns: mine)
                            b = UnsafePointer(mine)
                        }
                        GEMM.sgemm(m: g.outChannels, n: plane, k: g.patchSize, a: w, lda: g.patchSize, b: b, ldb: plane,
                                   c: y + n * g.outChannels * plane, ldc: plane)
                    }
                }
            }
            let order = magnitudeOrder(w, count: g.outChannels * g.patchSize)
            for s in sparsities {
                prune(w, order, sparsity: s)
                let make = { SparseConvolution(geometry: g, weight: w, threads: self.threads) }
                let conv = make(), narrow = avx2Variant(make)
                let (sparse, avx2) = timeSparse({ conv.run(input: x, output: y, epilogue: .identity, pool: pool) },
                                                narrow.map { c in { c.run(input: x, output: y, epilogue: .identity, pool: pool) } })
                report(record(shape, s, conv.methodDescription, dense, sparse, avx2, flops, 2 * Double(conv.nonzeros * g.batch * plane)))
            }
        }
    }

    private func record(_ shape: KernelBenchShape, _ s: Double, _ method: String, _ dense: Double, _ sparse: Double,
                        _ avx2: Double?, _ flops: Double, _ usefulFlops: Double) -> KernelBenchRecord {
        KernelBenchRecord(layer: shape.name, suite: shape.suite, sparsity: s, threads: threads, method: method,
                          dense_ms: dense, sparse_ms: sparse, speedup: dense / sparse,
                          instruction_set: SparseMatrix.instructionSet.rawValue, sparse_avx2_ms: avx2,
                          dense_gflops: flops / dense / 1e6, sparse_effective_gflops: flops / sparse / 1e6,
                          sparse_nonzero_gflops: usefulFlops / sparse / 1e6)
    }

    /// The same kernel built for AVX2, when the default instruction set is wider (nil otherwise).
    private func avx2Variant<T>(_ make: () -> T) -> T? {
        KernelInstructionSet.active == .avx2 ? nil : KernelInstructionSet.$override.withValue(.avx2) { make() }
    }

    /// Median milliseconds of the sparse kernel built with the default instruction set and, when
    /// given, of its AVX2 build (alternated, same data).
    private func timeSparse(_ body: () -> Void, _ avx2Body: (() -> Void)?) -> (Double, Double?) {
        guard let avx2Body else { return (time(body), nil) }
        var wide: [Double] = [], narrow: [Double] = []
        for _ in 0..<3 {
            wide.append(time(body))
            narrow.append(time(avx2Body))
        }
        return (LatencyStatistics(samples: wide).median, LatencyStatistics(samples: narrow).median)
    }

    /// Median milliseconds.
    private func time(_ body: () -> Void) -> Double {
        LatencyStatistics.measure(warmup: warmup, repetitions: repetitions, body).median
    }

    private func randomBuffer(_ count: Int, _ rng: inout SystemRandomNumberGenerator) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count { p[i] = Float.random(in: -1...1, using: &rng) }
        return p
    }

    /// Indices of `w` from the smallest magnitude to the largest.
    private func magnitudeOrder(_ w: UnsafeMutablePointer<Float>, count: Int) -> [Int] {
        (0..<count).sorted { abs(w[$0]) < abs(w[$1]) }
    }

    /// Zeroes the `sparsity` fraction of smallest-magnitude entries (levels only grow, so each
    /// level prunes further from the previous one, as nested masks do).
    private func prune(_ w: UnsafeMutablePointer<Float>, _ order: [Int], sparsity: Double) {
        let zeros = Int((sparsity * Double(order.count)).rounded())
        for i in order.prefix(zeros) { w[i] = 0 }
    }
}
