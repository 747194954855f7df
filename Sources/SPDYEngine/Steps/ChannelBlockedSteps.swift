import SPDYKernels

/// A dense convolution on the direct NCHW16c kernel (`DirectConvolution`): BatchNorm folded in,
/// bias, residual and clamp in the kernel's stores. Its input, output and residual are each
/// channel-blocked or NCHW, as the plan compiler placed them (PlanCompiler+ChannelBlocking.swift);
/// NCHW ones are converted in the plan's workspace.
final class DirectConvStep: SingleInputStep {
    let nodeName: String
    let convolution: DirectConvolution
    let activation: Activation
    let input: Int, output: Int
    let residual: Int?
    let outputBlocked: Bool, residualBlocked: Bool
    /// `convolution.stagingSize(outputBlocked:)` floats of the plan's shared workspace (set by
    /// the compiler after creating the step), for NCHW inputs and outputs.
    var staging: UnsafeMutablePointer<Float>? = nil

    init(nodeName: String, geometry: ConvGeometry, weight: [Float], bias: [Float]?, activation: Activation,
         input: Int, inputBlocked: Bool, output: Int, outputBlocked: Bool, residual: Int?, residualBlocked: Bool) {
        precondition(activation.clampBounds != nil || !outputBlocked, "GELU after a convolution is applied to NCHW outputs only")
        let (lo, hi) = activation.clampBounds ?? (-.infinity, .infinity)
        convolution = DirectConvolution(geometry: geometry, weights: weight, bias: bias, lo: lo, hi: hi, inputBlocked: inputBlocked)
        self.nodeName = nodeName
        self.activation = activation
        self.input = input
        self.output = output
        self.residual = residual
        self.outputBlocked = outputBlocked
        self.residualBlocked = residualBlocked
    }

    var readBuffers: [Int] { [input] + (residual.map { [$0] } ?? []) }

    var kernel: String {
        let g = convolution.geometry
        let layouts = [convolution.inputBlocked, outputBlocked].map { $0 ? "nchw16c" : "nchw" }.joined(separator: "→")
        let sum = residual == nil ? "" : residual == output ? "+residual in place" : "+residual"
        return "Conv \(g.kernelHeight)x\(g.kernelWidth)/\(g.strideH) direct \(layouts)\(sum)\(activation)"
    }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let y = memory.pointer(output)
        convolution.run(input: memory.pointer(input), output: y, outputBlocked: outputBlocked,
                        residual: residual.map { UnsafePointer(memory.pointer($0)) }, residualBlocked: residualBlocked,
                        staging: staging, pool: pool)
        guard activation.clampBounds == nil else { return }
        let g = convolution.geometry, plane = g.outHeight * g.outWidth, activation = activation
        pool.parallelFor(g.batch * g.outChannels, grain: 16) { rows in
            addBiasAndActivate(y, rows: rows, width: plane, bias: nil, biasIndex: { $0 }, activation: activation)
        }
    }
}

/// Max pooling of NCHW16c data into NCHW16c: each tap is one 16-channel vector.
final class BlockedMaxPoolStep: SingleInputStep {
    let nodeName: String
    let geometry: ConvGeometry
    let input: Int, output: Int

    init(nodeName: String, geometry: ConvGeometry, input: Int, output: Int) {
        self.nodeName = nodeName
        self.geometry = geometry
        self.input = input; self.output = output
    }

    var kernel: String { "MaxPool \(geometry.kernelHeight)x\(geometry.kernelWidth)/\(geometry.strideH) nchw16c" }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        typealias V = SIMD16<Float>
        let x = UnsafeRawPointer(memory.pointer(input)), y = UnsafeMutableRawPointer(memory.pointer(output))
        let g = geometry, width = ChannelBlocking.width, stride = MemoryLayout<V>.stride
        let (ih, iw, oh, ow) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        // Planes of one 16-channel block, over every image.
        pool.parallelFor(g.batch * g.inChannels / width, grain: 1) { planes in
            for plane in planes {
                let src = x + plane * ih * iw * stride, dst = y + plane * oh * ow * stride
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = V(repeating: -.infinity)
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                            guard iy >= 0 && iy < ih else { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                guard ix >= 0 && ix < iw else { continue }
                                let v = src.loadUnaligned(fromByteOffset: (iy * iw + ix) * stride, as: V.self)
                                best.replace(with: v, where: v .> best)
                            }
                        }
                        dst.storeBytes(of: best, toByteOffset: (oy * ow + ox) * stride, as: V.self)
                    }
                }
            }
        }
    }
}

/// The mean over each plane of NCHW16c data: [N, C, 1, 1], which is the same in both layouts.
final class BlockedGlobalAveragePoolStep: SingleInputStep {
    let nodeName: String
    let batch: Int, channels: Int, plane: Int
    let input: Int, output: Int

    init(nodeName: String, batch: Int, channels: Int, plane: Int, input: Int, output: Int) {
        self.nodeName = nodeName
        self.batch = batch; self.channels = channels; self.plane = plane
        self.input = input; self.output = output
    }

    var kernel: String { "GlobalAveragePool nchw16c" }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        typealias V = SIMD16<Float>
        let x = UnsafeRawPointer(memory.pointer(input)), y = UnsafeMutableRawPointer(memory.pointer(output))
        let plane = plane, stride = MemoryLayout<V>.stride, scale = 1 / Float(plane)
        pool.parallelFor(batch * channels / ChannelBlocking.width, grain: 4) { blocks in
            for block in blocks {
                let src = x + block * plane * stride
                var sum = V(), other = V()
                var p = 0
                while p + 2 <= plane {
                    sum += src.loadUnaligned(fromByteOffset: p * stride, as: V.self)
                    other += src.loadUnaligned(fromByteOffset: (p + 1) * stride, as: V.self)
                    p += 2
                }
                if p < plane { sum += src.loadUnaligned(fromByteOffset: p * stride, as: V.self) }
                y.storeBytes(of: (sum + other) * scale, toByteOffset: block * stride, as: V.self)
            }
        }
    }
}
