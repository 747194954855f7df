import SPDYKernels

/// A 2-D convolution (BatchNorm folded in, activation fused): 1×1 convolutions as one product per
/// image, depthwise ones directly, the rest by im2col + product per image and group; products run
/// on the packed micro-kernel (`PackedMatrix`, weights packed at compile time) or on OpenBLAS
/// where its kernels are faster (`DenseProductChoice`). A residual
/// connection (`Add` of a tensor shaped like the output, before the activation) can be fused.
final class ConvStep: SingleInputStep {
    let nodeName: String
    let geometry: ConvGeometry
    /// OIHW weights (BatchNorm already folded in).
    let weight: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    let activation: Activation
    let input: Int, output: Int
    /// The buffer added to the output before the activation (a fused residual `Add`), if any.
    let residual: Int?
    /// Shared scratch for im2col (owned by the plan), large enough for one image and group.
    let workspace: UnsafeMutablePointer<Float>?
    /// The kernel of the products.
    let choice: DenseProductChoice
    /// Each group's weights packed for the micro-kernel (none for depthwise or OpenBLAS).
    let packed: [PackedMatrix]
    /// Micro-kernel panel scratch, `packed[0].scratchPerThread` per thread.
    let panelScratch: UnsafeMutablePointer<Float>
    let threads: Int
    /// A one-thread pool for products inside an already parallel region.
    let serial = ThreadPool(threads: 1)

    init(nodeName: String, geometry: ConvGeometry, weight: [Float], bias: [Float]?, activation: Activation,
         input: Int, output: Int, residual: Int? = nil, workspace: UnsafeMutablePointer<Float>?, threads: Int) {
        precondition(residual == nil || (activation.clampBounds != nil && !geometry.isDepthwise),
                     "a residual is fused only into non-depthwise convolutions with a clamp activation")
        self.nodeName = nodeName
        self.residual = residual
        self.geometry = geometry
        self.weight = heapCopy(weight)
        self.bias = bias.map(heapCopy)
        self.activation = activation
        self.input = input
        self.output = output
        self.workspace = workspace
        self.threads = threads
        let og = geometry.groupOutChannels, k = geometry.patchSize
        let w = self.weight
        let choice = DenseProductChoice.active
        self.choice = choice
        packed = geometry.isDepthwise || choice == .openblas ? [] : (0..<geometry.groups).map {
            PackedMatrix(rows: og, depth: k, a: w + $0 * og * k, lda: k)
        }
        let perThread = packed.first?.scratchPerThread ?? 0
        panelScratch = AlignedFloats.allocate(max(1, perThread * threads))
    }

    var readBuffers: [Int] { [input] + (residual.map { [$0] } ?? []) }

    /// The bias, residual and ReLU/Clip of image `image`'s group `group`, applied by the
    /// micro-kernel as it stores (identity when the activation cannot be fused; then `execute`
    /// applies both after). `residual` is the residual tensor's base.
    func epilogue(_ group: Int, image: Int, residual: UnsafePointer<Float>?) -> KernelEpilogue {
        guard activation.clampBounds != nil else { return .identity }
        let g = geometry, plane = g.outHeight * g.outWidth
        var e = activation.epilogue(bias: bias.map { UnsafePointer($0 + group * g.groupOutChannels) })
        e.residual = residual.map { $0 + (image * g.outChannels + group * g.groupOutChannels) * plane }
        return e
    }

    /// The panel scratch of thread chunk `chunk`.
    func scratch(_ chunk: Int) -> UnsafeMutablePointer<Float> {
        panelScratch + chunk * (packed.first?.scratchPerThread ?? 0)
    }

    deinit {
        for p in packed { p.deallocate() }
        panelScratch.deallocate()
        weight.deallocate()
        bias?.deallocate()
    }

    /// C[og × n] = epilogue(weights of `group` · B[k × n]) on the chosen kernel; the epilogue's
    /// residual is laid out like C.
    func multiply(group: Int, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                  scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, epilogue: KernelEpilogue) {
        if choice == .packed {
            packed[group].multiply(n: n, b: b, ldb: ldb, c: c, ldc: ldc, scratch: scratch, pool: pool, epilogue: epilogue)
            return
        }
        let og = geometry.groupOutChannels, k = geometry.patchSize
        GEMM.sgemm(pool: pool, m: og, n: n, k: k, a: weight + group * og * k, lda: k, b: b, ldb: ldb, c: c, ldc: ldc)
        guard epilogue.bias != nil || epilogue.residual != nil || epilogue.lo > -.infinity || epilogue.hi < .infinity else { return }
        pool.parallelFor(og, grain: 8) { rows in
            for r in rows {
                let row = c + r * ldc, bias = epilogue.bias?[r] ?? 0
                if let residual = epilogue.residual {
                    if bias != 0 { VectorMath.addScalar(row, bias, row, count: n) }
                    VectorMath.add(row, residual + r * ldc, row, count: n, lo: epilogue.lo, hi: epilogue.hi)
                } else {
                    VectorMath.addScalar(row, bias, row, count: n, lo: epilogue.lo, hi: epilogue.hi)
                }
            }
        }
    }

    /// Columns a product should have before images stop being grouped (measured on the demo
    /// ResNet and ResNet-50 at batch 16/64: thin products run far below OpenBLAS's peak).
    static let minimumColumns = 512

    /// Images unfolded side by side into one product: small planes make thin products that
    /// OpenBLAS runs slowly, so images are grouped until a product has ≥ `minimumColumns` columns.
    static func imagesPerProduct(_ g: ConvGeometry) -> Int {
        let plane = g.outHeight * g.outWidth
        guard !g.isDepthwise, plane > 0, plane < Self.minimumColumns else { return 1 }
        return min(g.batch, (Self.minimumColumns + plane - 1) / plane)
    }

    /// Floats of unfolded patches one product may take: about L2 (2 MiB). Larger patch matrices
    /// (a 3×3 layer on a 56×56 plane: 7 MB per image) are unfolded and multiplied a block of
    /// output positions at a time, so the matrix is read back from cache instead of memory.
    static let patchBudget = 512 * 1024

    /// Output positions per im2col block: the whole plane when its patch matrix fits the budget.
    static func positionsPerBlock(_ g: ConvGeometry) -> Int {
        let plane = g.outHeight * g.outWidth
        guard g.patchSize * plane > patchBudget else { return plane }
        return min(plane, max(256, patchBudget / g.patchSize / 16 * 16))
    }

    /// Scratch elements per thread: the patch matrix (or block), plus a staging output when
    /// images are grouped.
    static func workspaceSize(_ g: ConvGeometry) -> Int {
        if g.isDepthwise { return 0 }
        let plane = g.outHeight * g.outWidth, images = imagesPerProduct(g)
        if images == 1 { return g.isPointwise ? 0 : g.patchSize * positionsPerBlock(g) }
        return (g.patchSize + g.groupOutChannels) * images * plane
    }

    var kernel: String {
        let g = geometry
        let product = choice.rawValue
        let method = g.isDepthwise ? "depthwise" : g.isPointwise ? product : "im2col+\(product)"
        return "Conv \(g.kernelHeight)x\(g.kernelWidth)/\(g.strideH) \(method)\(residual != nil ? "+residual" : "")\(activation)"
    }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let g = geometry
        let x = UnsafePointer(memory.pointer(input))
        let y = memory.pointer(output)
        let r = residual.map { UnsafePointer(memory.pointer($0)) }
        let plane = g.outHeight * g.outWidth
        if g.isDepthwise {
            let (w, b) = (UnsafePointer(weight), bias.map { UnsafePointer($0) })
            // Clamp activations (ReLU, Clip) are fused into the kernel's stores.
            let (lo, hi) = activation.clampBounds ?? (-.infinity, .infinity)
            pool.parallelFor(g.batch * g.outChannels, grain: 4) { range in
                // One call per image in the range: the padded-plane scratch is allocated once.
                var nc = range.lowerBound
                while nc < range.upperBound {
                    let n = nc / g.outChannels, c = nc % g.outChannels
                    let end = min(range.upperBound, (n + 1) * g.outChannels)
                    DepthwiseConv.run(g, input: x, weight: w, bias: b, output: y, image: n,
                                      channels: c..<(c + end - nc), lo: lo, hi: hi)
                    nc = end
                }
            }
            if activation.clampBounds == nil {
                let act = activation
                pool.parallelFor(g.batch * g.outChannels, grain: 16) { rows in
                    addBiasAndActivate(y, rows: rows, width: plane, bias: nil, biasIndex: { $0 }, activation: act)
                }
            }
            return
        }
        let inPlane = g.inHeight * g.inWidth
        let og = g.groupOutChannels
        if g.batch >= pool.threads && (pool.threads > 1 || ConvStep.imagesPerProduct(g) > 1) {
            // Whole images per thread, each with its own scratch: no split products.
            let perThread = ConvStep.workspaceSize(g)
            let grouped = ConvStep.imagesPerProduct(g)
            pool.parallelChunks(g.batch) { chunk, images in
                let columns = workspace.map { $0 + chunk * perThread }
                if grouped > 1, let columns {
                    self.convolveGrouped(images, grouped, x, y, r, columns, self.scratch(chunk))
                    return
                }
                for n in images {
                    for group in 0..<g.groups {
                        let src = x + (n * g.inChannels + group * g.groupInChannels) * inPlane
                        let dst = y + (n * g.outChannels + group * og) * plane
                        if g.isPointwise {
                            self.multiply(group: group, n: plane, b: src, ldb: plane, c: dst, ldc: plane,
                                                        scratch: self.scratch(chunk), pool: self.serial,
                                                        epilogue: self.epilogue(group, image: n, residual: r))
                        } else {
                            let block = ConvStep.positionsPerBlock(g)
                            for start in stride(from: 0, to: plane, by: block) {
                                let width = min(block, plane - start)
                                Im2col.unfold(g, input: src, columns: columns!, channels: 0..<g.groupInChannels,
                                              positions: start..<(start + width))
                                self.multiply(group: group, n: width, b: columns!, ldb: width, c: dst + start, ldc: plane,
                                              scratch: self.scratch(chunk), pool: self.serial,
                                              epilogue: self.epilogue(group, image: n, residual: r).advanced(by: start))
                            }
                        }
                    }
                }
            }
        } else {
            try convolveImageByImage(memory, pool, residual: r)
        }
        let (b, act, oc) = (bias.map { UnsafePointer($0) }, activation, g.outChannels)
        if activation.clampBounds == nil {  // GELU: not fused into the micro-kernel
            pool.parallelFor(g.batch * oc, grain: 16) { rows in
                addBiasAndActivate(y, rows: rows, width: plane, bias: b, biasIndex: { $0 % oc }, activation: act)
            }
        }
    }

    /// Images `images` in products of `grouped` images side by side: unfold each into its column
    /// block, one sgemm into the staging area, then scatter rows back to NCHW (adding the
    /// residual `r` and clamping there, when there is one). Single-threaded.
    private func convolveGrouped(_ images: Range<Int>, _ grouped: Int, _ x: UnsafePointer<Float>,
                                 _ y: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?, _ scratch: UnsafeMutablePointer<Float>,
                                 _ panels: UnsafeMutablePointer<Float>) {
        let g = geometry
        let plane = g.outHeight * g.outWidth, inPlane = g.inHeight * g.inWidth
        let og = g.groupOutChannels, k = g.patchSize
        let columns = scratch, staging = scratch + k * grouped * plane
        for start in stride(from: images.lowerBound, to: images.upperBound, by: grouped) {
            let count = min(grouped, images.upperBound - start), width = count * plane
            for group in 0..<g.groups {
                for i in 0..<count {
                    let src = x + ((start + i) * g.inChannels + group * g.groupInChannels) * inPlane
                    Im2col.unfold(g, input: src, columns: columns + i * plane, rowStride: width)
                }
                // The staging block is not laid out like the output: the residual is added below.
                let bounds = activation.clampBounds ?? (-.infinity, .infinity)
                var inStaging = epilogue(group, image: start, residual: nil)
                if r != nil { (inStaging.lo, inStaging.hi) = (-.infinity, .infinity) }
                multiply(group: group, n: width, b: columns, ldb: width, c: staging, ldc: width, scratch: panels, pool: serial,
                                       epilogue: inStaging)
                for i in 0..<count {
                    let offset = ((start + i) * g.outChannels + group * og) * plane
                    for o in 0..<og {
                        let source = staging + o * width + i * plane, target = y + offset + o * plane
                        if let r {
                            VectorMath.add(source, r + offset + o * plane, target, count: plane, lo: bounds.lo, hi: bounds.hi)
                        } else {
                            target.update(from: source, count: plane)
                        }
                    }
                }
            }
        }
    }

    /// One image at a time, each product split over the threads (batch smaller than threads).
    private func convolveImageByImage(_ memory: PlanMemory, _ pool: ThreadPool, residual r: UnsafePointer<Float>?) throws {
        let g = geometry
        let x = UnsafePointer(memory.pointer(input))
        let y = memory.pointer(output)
        let plane = g.outHeight * g.outWidth, inPlane = g.inHeight * g.inWidth
        let og = g.groupOutChannels
        for n in 0..<g.batch {
            for group in 0..<g.groups {
                let src = x + (n * g.inChannels + group * g.groupInChannels) * inPlane
                let dst = y + (n * g.outChannels + group * og) * plane
                if g.isPointwise {
                    multiply(group: group, n: plane, b: src, ldb: plane, c: dst, ldc: plane, scratch: panelScratch, pool: pool,
                                           epilogue: epilogue(group, image: n, residual: r))
                } else {
                    guard let columns = workspace else { preconditionFailure("im2col workspace missing") }
                    let block = ConvStep.positionsPerBlock(g)
                    for start in stride(from: 0, to: plane, by: block) {
                        let positions = start..<min(plane, start + block)
                        pool.parallelFor(g.groupInChannels, grain: 1) { channels in
                            Im2col.unfold(g, input: src, columns: columns, channels: channels, positions: positions)
                        }
                        multiply(group: group, n: positions.count, b: columns, ldb: positions.count, c: dst + start, ldc: plane,
                                 scratch: panelScratch, pool: pool,
                                 epilogue: epilogue(group, image: n, residual: r).advanced(by: start))
                    }
                }
            }
        }
    }
}
