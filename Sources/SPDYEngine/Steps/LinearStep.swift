import SPDYKernels

/// A product with a constant weight: Y[M×N] = alpha · X[M×K] · W + bias, for Gemm and for
/// MatMul with a constant right operand (leading dimensions of X flattened into M).
/// W is kept as the model stores it: [K×N], or [N×K] when `weightTransposed` (Gemm transB).
///
/// In a transformer whose other layers run sparse (a mixed SPDY profile) X or Y may be
/// token-blocked (`ActivationLayout`): then each block of tokens is one product
/// Y_blockᵀ[N × w] = Wᵀ · X_blockᵀ[K × w] straight between the blocks, a token-major side staged
/// through a per-thread transposed tile.
final class LinearStep: SingleInputStep {
    let nodeName: String
    let m: Int, n: Int, k: Int
    let alpha: Float
    let inputTransposed: Bool
    let weightTransposed: Bool
    let weight: UnsafeMutablePointer<Float>
    /// Per-output-column bias (beta already applied), or nil.
    let bias: UnsafeMutablePointer<Float>?
    let activation: Activation
    let input: Int, output: Int
    /// Layouts of X and Y: token-major, or token-blocked.
    let inputLayout: ActivationLayout, outputLayout: ActivationLayout
    /// Per thread: a staged X block and a staged Y block (token-blocked steps only).
    let staging: ThreadScratch?

    init(nodeName: String, m: Int, n: Int, k: Int, alpha: Float, inputTransposed: Bool, weightTransposed: Bool,
         weight: [Float], bias: [Float]?, activation: Activation, input: Int, output: Int,
         inputLayout: ActivationLayout = .tokenMajor, outputLayout: ActivationLayout = .tokenMajor, threads: Int = 1) {
        precondition(!inputLayout.isFeatureMajor && !outputLayout.isFeatureMajor, "a dense Linear reads no feature-major value")
        precondition(!inputTransposed || (inputLayout == .tokenMajor && outputLayout == .tokenMajor),
                     "a transposed input is token-major")
        self.inputLayout = inputLayout
        self.outputLayout = outputLayout
        let widths = [inputLayout.tokenBlockWidth, outputLayout.tokenBlockWidth].compactMap { $0 }
        precondition(Set(widths).count <= 1, "token blocks of different widths")
        staging = widths.first.map { ThreadScratch(floatsPerThread: (k + n) * $0, threads: threads) }
        self.nodeName = nodeName
        self.m = m; self.n = n; self.k = k
        self.alpha = alpha
        self.inputTransposed = inputTransposed
        self.weightTransposed = weightTransposed
        self.weight = heapCopy(weight)
        self.bias = bias.map(heapCopy)
        self.activation = activation
        self.input = input
        self.output = output
    }

    deinit {
        weight.deallocate()
        bias?.deallocate()
    }

    var kernel: String {
        "Linear \(k)->\(n) sgemm\(bias != nil ? "+bias" : "")\(activation)"
            + (inputLayout.tag.isEmpty ? "" : " \(inputLayout.tag)-in") + (outputLayout.tag.isEmpty ? "" : " \(outputLayout.tag)-out")
    }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let x = UnsafePointer(memory.pointer(input))
        let y = memory.pointer(output)
        if let staging {
            executeBlocked(x, y, staging, pool)
            return
        }
        GEMM.sgemm(pool: pool, transA: inputTransposed, transB: weightTransposed, m: m, n: n, k: k, alpha: alpha,
                   a: x, lda: inputTransposed ? m : k, b: weight, ldb: weightTransposed ? k : n, c: y, ldc: n)
        guard bias != nil || activation != .none else { return }
        let (b, act, n) = (bias.map { UnsafePointer($0) }, activation, n)
        pool.parallelFor(m, grain: 8) { rows in
            for r in rows {
                let row = y + r * n
                if let b {
                    switch act {
                    case .none: for j in 0..<n { row[j] += b[j] }
                    case .gelu:
                        for j in 0..<n { row[j] += b[j] }
                        VectorMath.gelu(row, row, count: n)
                    default: for j in 0..<n { row[j] = act.apply(row[j] + b[j]) }
                    }
                } else if act == .gelu {
                    VectorMath.gelu(row, row, count: n)
                } else {
                    for j in 0..<n { row[j] = act.apply(row[j]) }
                }
            }
        }
    }
}

extension LinearStep {
    /// One product per block of tokens between feature-major tiles (Y_blockᵀ = Wᵀ · X_blockᵀ);
    /// blocks run in parallel with single-threaded OpenBLAS calls, or one after another with
    /// each product split over the threads when there are fewer blocks than threads.
    func executeBlocked(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ staging: ThreadScratch, _ pool: ThreadPool) {
        let w = inputLayout.tokenBlockWidth ?? outputLayout.tokenBlockWidth!
        let blocks = (m + w - 1) / w
        let (m, n, k) = (self.m, self.n, self.k)
        let (inputLayout, outputLayout) = (self.inputLayout, self.outputLayout)
        let (b, act, alpha) = (bias.map { UnsafePointer($0) }, activation, alpha)
        let (a, lda, transA) = (UnsafePointer(weight), weightTransposed ? k : n, !weightTransposed)
        func block(_ index: Int, thread: Int, product: ThreadPool) {
            let t0 = index * w, valid = min(w, m - t0)
            let stagedX = staging[thread], stagedY = stagedX + k * w
            var xb: UnsafePointer<Float>
            if inputLayout == .tokenMajor {
                Transpose.block(x + t0 * k, ld: k, rows: valid, columns: k, into: stagedX, ld: w)
                xb = UnsafePointer(stagedX)
            } else {
                xb = x + inputLayout.offset(token: t0, feature: 0, features: k)
            }
            let yb = outputLayout == .tokenMajor ? stagedY : y + outputLayout.offset(token: t0, feature: 0, features: n)
            GEMM.sgemm(pool: product, transA: transA, m: n, n: w, k: k, alpha: alpha, a: a, lda: lda, b: xb, ldb: w, c: yb, ldc: w)
            if b != nil || act != .none {
                for feature in 0..<n {
                    let row = yb + feature * w, bias = b?[feature] ?? 0
                    if let (lo, hi) = act.clampBounds {
                        VectorMath.addScalar(row, bias, row, count: w, lo: lo, hi: hi)
                    } else {  // GELU, the one activation that is not a clamp
                        if bias != 0 { VectorMath.addScalar(row, bias, row, count: w) }
                        VectorMath.gelu(row, row, count: w)
                    }
                }
            }
            if outputLayout == .tokenMajor {
                Transpose.block(yb, ld: w, rows: n, columns: valid, into: y + t0 * n, ld: n)
            }
        }
        if blocks >= pool.threads {
            let serial = ThreadPool(threads: 1)
            pool.parallelChunks(blocks) { thread, range in
                for index in range { block(index, thread: thread, product: serial) }
            }
        } else {
            for index in 0..<blocks { block(index, thread: 0, product: pool) }
        }
    }
}

/// A product of two runtime tensors with NumPy batching: [..., M, K] × [..., K, N], batch
/// dimensions broadcast (attention scores and context). Threads take whole batch items; each
/// item's left operand is packed for the micro-kernel (`PackedMatrix`), which runs these small
/// products (128×32×128 in BERT attention) about twice as fast as OpenBLAS calls.
final class BatchedMatMulStep: PlanStep {
    let nodeName: String
    let m: Int, n: Int, k: Int
    /// For each output batch index, the batch index in A and in B.
    let aBatch: [Int], bBatch: [Int]
    let a: Int, b: Int, output: Int
    /// Per thread: packed A; and the packed chunks of B (one per thread, contiguous).
    let scratch: ThreadScratch, chunks: ThreadScratch
    let serial = ThreadPool(threads: 1)

    init(nodeName: String, m: Int, n: Int, k: Int, aBatch: [Int], bBatch: [Int], a: Int, b: Int, output: Int, threads: Int) {
        self.nodeName = nodeName
        self.m = m; self.n = n; self.k = k
        self.aBatch = aBatch; self.bBatch = bBatch
        self.a = a; self.b = b; self.output = output
        scratch = ThreadScratch(floatsPerThread: PackedMatrix.storageSize(rows: m, depth: k), threads: threads)
        // The B chunk for this depth (the same for every item).
        chunks = ThreadScratch(floatsPerThread: PackedMatrix.scratchPerThread(depth: k), threads: threads)
    }

    var kernel: String { "MatMul batched[\(aBatch.count)] packed" }
    var readBuffers: [Int] { [a, b] }
    var writtenBuffers: [Int] { [output] }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let pa = UnsafePointer(memory.pointer(a)), pb = UnsafePointer(memory.pointer(b))
        let pc = memory.pointer(output)
        let (m, n, k, aBatch, bBatch) = (m, n, k, aBatch, bBatch)
        // Fewer items than threads: one item at a time, each product split over the threads.
        let perItem = aBatch.count < pool.threads
        pool.parallelChunks(perItem ? 1 : aBatch.count) { thread, range in
            let storage = self.scratch[thread]
            for i in perItem ? 0..<aBatch.count : range {
                let packed = PackedMatrix(rows: m, depth: k, a: pa + aBatch[i] * m * k, lda: k, storage: storage)
                precondition(packed.scratchPerThread == self.chunks.floatsPerThread, "B chunk scratch mismatch")
                packed.multiply(n: n, b: pb + bBatch[i] * k * n, ldb: n, c: pc + i * m * n, ldc: n,
                                scratch: self.chunks[perItem ? 0 : thread], pool: perItem ? pool : self.serial)
            }
        }
    }
}
