import Foundation
import SPDYKernels

/// A convolution whose pruned weight runs on `SparseConvolution` (bias, a residual `Add` and the
/// activation fused into the kernel's stores).
final class SparseConvStep: SingleInputStep {
    let nodeName: String
    let convolution: SparseConvolution
    let bias: UnsafeMutablePointer<Float>?
    let activation: Activation
    let input: Int, output: Int
    /// The buffer added to the output before the activation (a fused residual `Add`), if any.
    let residual: Int?

    init(nodeName: String, geometry: ConvGeometry, weight: [Float], bias: [Float]?, activation: Activation,
         input: Int, output: Int, residual: Int? = nil, threads: Int, workspace: UnsafeMutablePointer<Float>? = nil) {
        precondition(residual == nil || activation.clampBounds != nil, "a residual is fused only with a clamp activation")
        self.residual = residual
        self.nodeName = nodeName
        convolution = weight.withUnsafeBufferPointer {
            SparseConvolution(geometry: geometry, weight: $0.baseAddress!, threads: threads, phaseBuffer: workspace)
        }
        self.bias = bias.map(heapCopy)
        self.activation = activation
        self.input = input
        self.output = output
    }

    deinit { bias?.deallocate() }

    var readBuffers: [Int] { [input] + (residual.map { [$0] } ?? []) }

    var kernel: String {
        let g = convolution.geometry
        return "Conv \(g.kernelHeight)x\(g.kernelWidth)/\(g.strideH) sparse-\(convolution.methodDescription) "
            + String(format: "%.1f%% dense", 100 * convolution.density) + (residual != nil ? "+residual" : "") + "\(activation)"
    }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        var epilogue = activation.epilogue(bias: bias.map { UnsafePointer($0) })
        epilogue.residual = residual.map { UnsafePointer(memory.pointer($0)) }
        convolution.run(input: UnsafePointer(memory.pointer(input)), output: memory.pointer(output),
                        epilogue: epilogue, pool: pool)
    }
}

/// A product with a pruned constant weight on `SparseLinear`: Y[M×N] = alpha · X[M×K] · W + bias.
final class SparseLinearStep: SingleInputStep {
    let nodeName: String
    let m: Int, n: Int, k: Int
    let layer: SparseLinear
    let bias: UnsafeMutablePointer<Float>?
    let activation: Activation
    let input: Int, output: Int
    /// Activation layouts: feature-major or token-blocked between sparse Linear layers, attention
    /// and LayerNorms (no transposes).
    let inputLayout: ActivationLayout, outputLayout: ActivationLayout

    /// `weight` as the model stores it: [K×N], or [N×K] when `weightTransposed`; alpha is folded in.
    init(nodeName: String, m: Int, n: Int, k: Int, alpha: Float, weightTransposed: Bool, weight: [Float],
         bias: [Float]?, activation: Activation, input: Int, output: Int, threads: Int,
         inputLayout: ActivationLayout = .tokenMajor, outputLayout: ActivationLayout = .tokenMajor) {
        self.inputLayout = inputLayout
        self.outputLayout = outputLayout
        self.nodeName = nodeName
        self.m = m; self.n = n; self.k = k
        let scaled = alpha == 1 ? weight : weight.map { $0 * alpha }
        layer = scaled.withUnsafeBufferPointer {
            SparseLinear(weight: $0.baseAddress!, inFeatures: k, outFeatures: n, transposed: !weightTransposed, threads: threads,
                         input: inputLayout, output: outputLayout)
        }
        self.bias = bias.map(heapCopy)
        self.activation = activation
        self.input = input
        self.output = output
    }

    deinit { bias?.deallocate() }

    var kernel: String {
        "Linear \(k)->\(n) sparse " + String(format: "%.1f%% dense", 100 * layer.matrix.density)
            + "\(bias != nil ? "+bias" : "")\(activation)"
            + (inputLayout.tag.isEmpty ? "" : " \(inputLayout.tag)-in") + (outputLayout.tag.isEmpty ? "" : " \(outputLayout.tag)-out")
    }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        // GELU is applied on each finished tile while it is in cache, not in a pass of its own.
        layer.run(n: m, x: UnsafePointer(memory.pointer(input)), y: memory.pointer(output),
                  epilogue: activation.epilogue(bias: bias.map { UnsafePointer($0) }), pool: pool)
    }
}
