import CKernels
import Foundation

/// A dense convolution (one group) computed directly on channel-blocked tensors, as ONNX
/// Runtime's NCHWc convolutions are: no im2col, no packing of activations per call, and the
/// bias, residual and clamp applied as each result leaves the registers (`spdy_direct_conv_avx512`
/// and `spdy_direct_conv_avx2`, C; the instruction set active at init).
///
/// Layouts: the input, the output and the residual are each NCHW16c (`ChannelBlocking`) or
/// NCHW. The kernel itself reads blocked inputs, or NCHW inputs whose channels do not fill
/// blocks (a network's stem: three channels), and writes blocked outputs; other NCHW inputs are
/// blocked first and NCHW outputs unblocked after, in caller-provided staging memory
/// (`stagingSize`), so a dense layer between two sparse (NCHW) ones still runs here. The
/// weights are packed once, in groups of four 16-channel output blocks.
public final class DirectConvolution: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// Whether the input is NCHW16c (else NCHW).
    public let inputBlocked: Bool
    /// Whether an NCHW input is blocked before the kernel runs (its channels fill blocks).
    let blocksInput: Bool
    /// For an NCHW input the kernel reads as it is, with padding (a network's stem): the
    /// geometry of the input copied into a zero border, so that the kernel's one-channel taps
    /// need no bounds checks.
    let paddedGeometry: ConvGeometry?
    /// For a strided, unpadded 1 × 1 convolution on blocked input: the unstrided geometry it
    /// runs as, on a compact copy of the positions it reads (`spdy_blocked_subsample`). The
    /// strided input spans stride² times the memory it uses, which made outer blocks (sized by
    /// the input they span) 4× smaller and each re-read every group's weights.
    let subsampledGeometry: ConvGeometry?
    let packed: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    /// The micro-kernel's instruction set (`KernelInstructionSet.active` at init).
    public let instructionSet: KernelInstructionSet
    let lo: Float, hi: Float

    /// Whether this build has the kernel: x86_64, in AVX-512 or AVX2 (the instruction set
    /// `KernelInstructionSet.active` names when the convolution is built).
    public static let isAvailable: Bool = {
        #if arch(x86_64)
        return true
        #else
        return false
        #endif
    }()

    /// Whether the direct kernel runs `g` on this CPU: x86_64, one group, output channels a
    /// multiple of 16, and input channels a multiple of 16 when the input is blocked.
    public static func supports(_ g: ConvGeometry, inputBlocked: Bool) -> Bool {
        isAvailable && g.groups == 1 && g.outChannels % ChannelBlocking.width == 0
            && (!inputBlocked || g.inChannels % ChannelBlocking.width == 0) && g.outHeight > 0 && g.outWidth > 0
    }

    /// Packs OIHW `weights` (BatchNorm folded in) for `geometry`; the clamp [lo, hi] follows the
    /// bias and the residual (ReLU: 0, +∞).
    public init(geometry: ConvGeometry, weights: [Float], bias: [Float]?, lo: Float = -.infinity, hi: Float = .infinity,
                inputBlocked: Bool) {
        precondition(Self.supports(geometry, inputBlocked: inputBlocked), "direct convolution does not support \(geometry)")
        precondition(weights.count == geometry.outChannels * geometry.patchSize, "weights do not match \(geometry)")
        self.geometry = geometry
        self.inputBlocked = inputBlocked
        instructionSet = KernelInstructionSet.active
        blocksInput = !inputBlocked && geometry.inChannels % ChannelBlocking.width == 0
        self.lo = lo
        self.hi = hi
        self.bias = bias.map { b in
            let p = AlignedFloats.allocate(b.count)
            p.initialize(from: b, count: b.count)
            return p
        }
        if !inputBlocked && !blocksInput && geometry.hasPadding {
            var padded = geometry
            padded.inHeight += geometry.padTop + geometry.padBottom
            padded.inWidth += geometry.padLeft + geometry.padRight
            (padded.padTop, padded.padLeft, padded.padBottom, padded.padRight) = (0, 0, 0, 0)
            paddedGeometry = padded
        } else {
            paddedGeometry = nil
        }
        if inputBlocked && geometry.kernelHeight == 1 && geometry.kernelWidth == 1 && !geometry.hasPadding
            && (geometry.strideH > 1 || geometry.strideW > 1) {
            var compact = geometry
            (compact.inHeight, compact.inWidth) = (geometry.outHeight, geometry.outWidth)
            (compact.strideH, compact.strideW) = (1, 1)
            subsampledGeometry = compact
        } else {
            subsampledGeometry = nil
        }
        var shape = Self.arguments(geometry, inputBlocked: inputBlocked || blocksInput)
        packed = AlignedFloats.allocate(Int(spdy_direct_conv_packed_size(&shape)))
        weights.withUnsafeBufferPointer { spdy_direct_conv_pack(&shape, $0.baseAddress, packed) }
    }

    deinit {
        packed.deallocate()
        bias?.deallocate()
    }

    /// Floats of staging memory `run` needs for an output in this layout: the blocked copy of an
    /// NCHW input (or its zero-bordered copy) and the blocked result before it is unblocked.
    public func stagingSize(outputBlocked: Bool) -> Int {
        let g = geometry
        var size = outputBlocked ? 0 : g.batch * g.outChannels * g.outHeight * g.outWidth
        if blocksInput { size += g.batch * g.inChannels * g.inHeight * g.inWidth }
        if let p = paddedGeometry { size += p.batch * p.inChannels * p.inHeight * p.inWidth }
        if let c = subsampledGeometry { size += c.batch * c.inChannels * c.inHeight * c.inWidth }
        return size
    }

    static func arguments(_ g: ConvGeometry, inputBlocked: Bool) -> spdy_direct_conv {
        var c = spdy_direct_conv()
        c.batch = Int64(g.batch); c.in_channels = Int64(g.inChannels); c.in_h = Int64(g.inHeight); c.in_w = Int64(g.inWidth)
        c.out_channels = Int64(g.outChannels); c.out_h = Int64(g.outHeight); c.out_w = Int64(g.outWidth)
        c.kernel_h = Int64(g.kernelHeight); c.kernel_w = Int64(g.kernelWidth)
        c.stride_h = Int64(g.strideH); c.stride_w = Int64(g.strideW)
        c.pad_top = Int64(g.padTop); c.pad_left = Int64(g.padLeft)
        c.dilation_h = Int64(g.dilationH); c.dilation_w = Int64(g.dilationW)
        c.input_blocked = inputBlocked ? 1 : 0
        c.unpadded = g.hasPadding ? 0 : 1
        return c
    }

    /// Bytes of input one outer block of positions may read: the block runs through every
    /// output block group while its input stays in L2 (2 MiB per core here), so the input is
    /// read from memory once and each group's weights once per block.
    static let blockInputBytes = 1 << 20

    /// Output positions per outer block (a multiple of the kernel's 48-position chunk).
    static func positionsPerBlock(_ g: ConvGeometry) -> Int {
        let chunk = 8 * Int(SPDY_CONV_TILE_POSITIONS)
        let bytesPerPosition = 4 * g.inChannels * g.strideH * g.strideW
        return max(chunk, blockInputBytes / bytesPerPosition / chunk * chunk)
    }

    /// y = clamp(conv(x) + bias + residual): `output` (and `residual`, when given) NCHW16c when
    /// `outputBlocked` (`residualBlocked`), else NCHW. `staging` holds `stagingSize(outputBlocked:)`
    /// floats (nil when that is 0). Splits the work over `pool`'s threads by output block groups
    /// when the weights outweigh the input, else by positions.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, outputBlocked: Bool,
                    residual: UnsafePointer<Float>? = nil, residualBlocked: Bool = true,
                    staging: UnsafeMutablePointer<Float>? = nil, pool: ThreadPool) {
        let g = geometry
        precondition(stagingSize(outputBlocked: outputBlocked) == 0 || staging != nil, "direct convolution needs staging memory")
        let kernelGeometry = paddedGeometry ?? subsampledGeometry ?? g
        var c = Self.arguments(kernelGeometry, inputBlocked: inputBlocked || blocksInput)
        var free = staging
        c.input = input
        if let compact = subsampledGeometry, let buffer = free {
            let planes = g.batch * g.inChannels / ChannelBlocking.width
            pool.parallelFor(planes, grain: 1) { range in
                spdy_blocked_subsample(input + range.lowerBound * g.inHeight * g.inWidth * ChannelBlocking.width,
                                       buffer + range.lowerBound * compact.inHeight * compact.inWidth * ChannelBlocking.width,
                                       Int64(range.count), Int64(g.inHeight), Int64(g.inWidth), Int64(g.outHeight), Int64(g.outWidth),
                                       Int64(g.strideH), Int64(g.strideW))
            }
            c.input = UnsafePointer(buffer)
            free = buffer + compact.batch * compact.inChannels * compact.inHeight * compact.inWidth
        } else if let paddedGeometry, let buffer = free {
            ZeroBorder.copy(input, planes: g.batch * g.inChannels, height: g.inHeight, width: g.inWidth, into: buffer,
                            paddedHeight: paddedGeometry.inHeight, paddedWidth: paddedGeometry.inWidth,
                            top: g.padTop, left: g.padLeft, pool: pool)
            c.input = UnsafePointer(buffer)
            free = buffer + paddedGeometry.batch * paddedGeometry.inChannels * paddedGeometry.inHeight * paddedGeometry.inWidth
        } else if blocksInput, let buffer = free {
            ChannelBlocking.block(input, buffer, images: g.batch, channels: g.inChannels, plane: g.inHeight * g.inWidth, pool: pool)
            c.input = UnsafePointer(buffer)
            free = buffer + g.batch * g.inChannels * g.inHeight * g.inWidth
        }
        c.weights = UnsafePointer(packed)
        c.bias = bias.map { UnsafePointer($0) }
        c.residual = residual
        c.output = outputBlocked ? output : free!
        c.residual_blocked = residualBlocked ? 1 : 0
        c.lo = lo
        c.hi = hi
        let tile = Int(SPDY_CONV_TILE_POSITIONS), perGroup = Int(SPDY_CONV_BLOCKS_PER_GROUP)
        let positions = g.batch * g.outHeight * g.outWidth
        let groups = (g.outChannels / ChannelBlocking.width + perGroup - 1) / perGroup
        let block = Int64(Self.positionsPerBlock(kernelGeometry))
        let arguments = c
        let kernel = instructionSet == .avx512 ? spdy_direct_conv_avx512 : spdy_direct_conv_avx2
        // Threads take output block groups when the weights outweigh the input (deep layers at
        // small batches), so each reads only its groups' weights; else ranges of positions.
        let weightBytes = 4 * g.outChannels * g.patchSize
        let inputBytes = 4 * g.batch * g.inChannels * kernelGeometry.inHeight * kernelGeometry.inWidth
        if weightBytes > inputBytes && groups >= pool.threads {
            pool.parallelChunks(groups) { _, range in
                withUnsafePointer(to: arguments) {
                    kernel($0, Int64(range.lowerBound), Int64(range.upperBound), 0, Int64(positions), block)
                }
            }
        } else {
            let tiles = (positions + tile - 1) / tile
            pool.parallelChunks(tiles) { _, range in
                let first = range.lowerBound * tile, last = min(positions, range.upperBound * tile)
                withUnsafePointer(to: arguments) {
                    kernel($0, 0, Int64(groups), Int64(first), Int64(last), block)
                }
            }
        }
        if !outputBlocked {
            ChannelBlocking.unblock(arguments.output, output, images: g.batch, channels: g.outChannels,
                                    plane: g.outHeight * g.outWidth, pool: pool)
        }
    }
}

/// Channel-blocked tensors (NCHW16c): channel c of position (h, w) of image n at
/// ((n · C/16 + c/16) · H · W + h · W + w) · 16 + c mod 16. A position's 16 channels of a block
/// are one cache line, which is what the direct convolution broadcasts from and stores to.
public enum ChannelBlocking {
    /// Channels per block.
    public static let width = Int(SPDY_CHANNEL_BLOCK)

    /// NCHW → NCHW16c (`channels` a multiple of `width`), one image's channel block per item.
    public static func block(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, images: Int, channels: Int, plane: Int,
                             pool: ThreadPool = ThreadPool(threads: 1)) {
        pool.parallelFor(images * channels / width, grain: 1) { blocks in
            for b in blocks {
                spdy_nchw_to_blocked(x + b * width * plane, y + b * width * plane, 1, Int64(width), Int64(plane))
            }
        }
    }

    /// NCHW16c → NCHW.
    public static func unblock(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, images: Int, channels: Int, plane: Int,
                               pool: ThreadPool = ThreadPool(threads: 1)) {
        pool.parallelFor(images * channels / width, grain: 1) { blocks in
            for b in blocks {
                spdy_blocked_to_nchw(x + b * width * plane, y + b * width * plane, 1, Int64(width), Int64(plane))
            }
        }
    }

    /// An NCHW array in NCHW16c (tests and tools).
    public static func blocked(_ x: [Float], images: Int, channels: Int, plane: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { src in
            y.withUnsafeMutableBufferPointer { block(src.baseAddress!, $0.baseAddress!, images: images, channels: channels, plane: plane) }
        }
        return y
    }

    /// An NCHW16c array in NCHW (tests and tools).
    public static func planar(_ x: [Float], images: Int, channels: Int, plane: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { src in
            y.withUnsafeMutableBufferPointer { unblock(src.baseAddress!, $0.baseAddress!, images: images, channels: channels, plane: plane) }
        }
        return y
    }
}
