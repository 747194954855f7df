import SPDYGraph
import SPDYTensor

/// How BatchNormalization behaves in training passes.
public enum BatchNormMode: Sendable, Equatable, Codable {
    /// Normalise with the running statistics and never change them (inference behaviour; the
    /// gAP default). Scale and bias still train.
    case frozen
    /// Normalise with the batch's statistics and update the running ones; `momentum` (ONNX
    /// convention, the weight of the old value) overrides the node's own when given.
    case batchStatistics(momentum: Float?)
}

/// Chooses the kernel for each node.
enum KernelFactory {
    /// Operators with a backward rule (for the float inputs listed by their kernels).
    static let differentiableOperators: Set<String> = [
        "Conv", "Gemm", "MatMul", "BatchNormalization", "LayerNormalization",
        "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf", "Exp", "Log", "Sqrt",
        "Reciprocal", "Neg", "Abs",
        "Add", "Sub", "Mul", "Div", "Pow", "Where",
        "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum",
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Cast",
        "Transpose", "Expand", "Tile", "Slice", "Concat", "Split", "Pad", "Gather",
    ]

    /// The kernel for `spec`: a dedicated one for float operators, the reference semantics for
    /// the rest (which then cannot carry gradients).
    static func make<S: TrainingScalar>(_ spec: KernelSpec, batchNorm: BatchNormMode, scalar: S.Type) throws -> AnyKernel<S> {
        let node = spec.node
        let floatOutput = spec.outputTypes.first?.dataType == .float32
        if floatOutput && (node.domain.isEmpty || node.domain == "ai.onnx") {
            if let k = try dedicated(spec, batchNorm: batchNorm, scalar: scalar) { return k }
        }
        let semantics = try OperatorRegistry.semantics(for: node, opset: spec.opset)
        return AnyKernel(ReferenceKernel<S>(node: node, opset: spec.opset, semantics: semantics))
    }

    private static func dedicated<S: TrainingScalar>(_ spec: KernelSpec, batchNorm: BatchNormMode, scalar: S.Type) throws -> AnyKernel<S>? {
        let float0 = spec.hasInput(0) && spec.inputType(0).dataType == .float32
        switch spec.node.opType {
        case "Conv": return try ConvolutionKernel<S>.kernel(spec)
        case "Gemm": return try GemmKernel<S>.kernel(spec)
        case "MatMul": return try MatMulKernel<S>.kernel(spec)
        case "BatchNormalization":
            switch batchNorm {
            case .frozen: return try BatchNormalizationKernel<S>.kernel(spec, batchStatistics: false, momentum: nil)
            case .batchStatistics(let momentum):
                return try BatchNormalizationKernel<S>.kernel(spec, batchStatistics: true, momentum: momentum)
            }
        case "LayerNormalization": return try LayerNormalizationKernel<S>.kernel(spec)
        case "Softmax", "LogSoftmax": return try SoftmaxKernel<S>.kernel(spec)
        case "ReduceMean", "ReduceSum": return float0 ? try ReductionKernel<S>.kernel(spec) : nil
        case "Add", "Sub", "Mul", "Div", "Pow", "Where": return try ArithmeticKernel<S>.kernel(spec)
        default: break
        }
        guard float0 else { return nil }
        if let k = try UnaryRules.kernel(spec, scalar: scalar) { return k }
        if let k = try PoolingKernels.kernel(spec, scalar: scalar) { return k }
        return try LayoutKernels.kernel(spec, scalar: scalar)
    }
}
