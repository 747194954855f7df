import SPDYGraph
import SPDYKernels
import SPDYTensor

/// What a node's backward rule reads besides the output gradients: input and output indices.
/// Constant and parameter inputs are always readable and need not be listed.
struct SavedValues: Equatable {
    var inputs: Set<Int> = []
    var outputs: Set<Int> = []
}

/// Everything known about a node when its kernel is built: the node, the opset, exact input
/// and output types for the compiled shapes, and the contents of inputs known before run time.
struct KernelSpec {
    var node: Node
    var opset: Int
    var inputTypes: [ValueType?]
    var outputTypes: [ValueType]
    /// Inputs whose contents are known at compile time (initializers, folded shape arithmetic).
    var constants: [Tensor?]
    /// Largest scratch matrix (elements) a kernel should allocate before splitting its work.
    var workspaceElements: Int = 1 << 22

    /// The constant input `index`, or a `needsConstant` error naming the node.
    func constant(_ index: Int) throws -> Tensor {
        guard index < constants.count, let c = constants[index] else {
            throw GraphError.needsConstant(node: node.name, opType: node.opType,
                                           input: index < node.inputs.count ? node.inputs[index] : "#\(index)")
        }
        return c
    }

    /// The type of input `index`. Precondition: the input is present.
    func inputType(_ index: Int) -> ValueType {
        guard index < inputTypes.count, let t = inputTypes[index] else {
            preconditionFailure("node \(node.name): input \(index) is absent")
        }
        return t
    }

    /// Whether input `index` is present (named and not omitted).
    func hasInput(_ index: Int) -> Bool { index < inputTypes.count && inputTypes[index] != nil }

    /// An error about this node's shapes or attributes.
    func unsupported(_ reason: String) -> TrainingError {
        .unsupportedConfiguration(node: node.name, opType: node.opType, opset: opset, reason: reason)
    }
}

/// Per-node data a forward pass leaves for the backward pass besides saved values
/// (max-pool argmax positions, normalisation statistics).
struct Auxiliary<S: TrainingScalar> {
    var indices: [Int32] = []
    var values: [S] = []

    /// Elements held (for the activation counter).
    var count: Int { indices.count + values.count }
}

/// The inputs of a forward step.
struct ForwardArguments<S: TrainingScalar> {
    /// One entry per node input; nil for omitted inputs.
    var inputs: [Value<S>?]
    /// Whether this is a training pass (BatchNorm in batch-statistics mode normalises with them).
    var training: Bool
    var pool: ThreadPool

    /// The float input `index`. Precondition: present and float.
    func dense(_ index: Int) -> Dense<S> {
        guard index < inputs.count, let v = inputs[index] else { preconditionFailure("input \(index) is absent") }
        return v.dense
    }
}

/// A forward step's results.
struct KernelOutputs<S: TrainingScalar> {
    var outputs: [Value<S>]
    var auxiliary: Auxiliary<S>? = nil
    /// New values for state inputs (BatchNorm running statistics in batch-statistics mode).
    var stateUpdates: [(input: Int, value: Dense<S>)] = []

    init(_ outputs: [Value<S>], auxiliary: Auxiliary<S>? = nil) {
        self.outputs = outputs
        self.auxiliary = auxiliary
    }

    init(_ output: Dense<S>, auxiliary: Auxiliary<S>? = nil) {
        self.init([.dense(output)], auxiliary: auxiliary)
    }
}

/// The inputs of a backward step.
struct BackwardArguments<S: TrainingScalar> {
    /// Gradients of the loss w.r.t. each output; nil when no gradient reached that output.
    var outputGradients: [Dense<S>?]
    /// Saved, constant and parameter inputs; nil for the others.
    var inputs: [Value<S>?]
    /// Saved outputs; nil for the others.
    var outputs: [Value<S>?]
    var auxiliary: Auxiliary<S>?
    /// Which inputs want a gradient.
    var needsGradient: [Bool]
    /// Whether the forward was a training pass.
    var training: Bool
    var pool: ThreadPool

    /// The float input `index`. Precondition: it was saved (or is constant).
    func input(_ index: Int) -> Dense<S> {
        guard index < inputs.count, let v = inputs[index] else { preconditionFailure("input \(index) was not saved") }
        return v.dense
    }

    /// The float output `index`. Precondition: it was saved.
    func output(_ index: Int) -> Dense<S> {
        guard index < outputs.count, let v = outputs[index] else { preconditionFailure("output \(index) was not saved") }
        return v.dense
    }

    /// The gradient of output `index`, zeros of `shape` when none arrived.
    func gradient(_ index: Int, shape: [Int]) -> Dense<S> {
        if index < outputGradients.count, let g = outputGradients[index] { return g }
        return Dense(zeros: shape)
    }

    /// Whether input `index` wants a gradient.
    func wants(_ index: Int) -> Bool { index < needsGradient.count && needsGradient[index] }
}

/// One operator's forward computation and backward rule for fixed shapes.
///
/// Kernels are built per node when a program is compiled; they are generic over the scalar and
/// reached through `AnyKernel`, whose closures are created where the scalar is concrete, so every
/// kernel runs specialised code.
protocol TrainingKernel {
    associatedtype Scalar: TrainingScalar
    /// Whether the backward rule can produce a gradient for input `index`.
    func differentiable(input index: Int) -> Bool
    /// What the backward rule reads, given which inputs want gradients.
    func saved(needsGradient: [Bool], training: Bool) -> SavedValues
    /// Computes the outputs.
    func forward(_ arguments: ForwardArguments<Scalar>) throws -> KernelOutputs<Scalar>
    /// Gradients for the inputs that want one (nil elsewhere), given the output gradients.
    func backward(_ arguments: BackwardArguments<Scalar>) throws -> [Dense<Scalar>?]
}

extension TrainingKernel {
    func differentiable(input index: Int) -> Bool { index == 0 }
}

/// A type-erased kernel. The closures are created in `init`, where `K` is concrete, so calling
/// them runs the kernel's specialised methods.
struct AnyKernel<S: TrainingScalar> {
    let differentiable: (Int) -> Bool
    let saved: ([Bool], Bool) -> SavedValues
    let forward: (ForwardArguments<S>) throws -> KernelOutputs<S>
    let backward: (BackwardArguments<S>) throws -> [Dense<S>?]

    init<K: TrainingKernel>(_ kernel: K) where K.Scalar == S {
        differentiable = { kernel.differentiable(input: $0) }
        saved = { kernel.saved(needsGradient: $0, training: $1) }
        forward = { try kernel.forward($0) }
        backward = { try kernel.backward($0) }
    }
}
