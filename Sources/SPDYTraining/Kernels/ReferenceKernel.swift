import SPDYGraph
import SPDYTensor

/// Any operator without a gradient path, run with its reference semantics on tensors: integer
/// and boolean arithmetic (token ids, attention masks, shapes computed at run time), casts to
/// integers, comparisons. Float inputs are rounded to float32 for it. It has no backward rule:
/// the compiler rejects it wherever a gradient would have to pass.
struct ReferenceKernel<S: TrainingScalar>: TrainingKernel {
    typealias Scalar = S
    let node: Node
    let opset: Int
    let semantics: any OperatorSemantics.Type

    func differentiable(input index: Int) -> Bool { false }
    func saved(needsGradient: [Bool], training: Bool) -> SavedValues { SavedValues() }

    func forward(_ arguments: ForwardArguments<S>) throws -> KernelOutputs<S> {
        let inputs = arguments.inputs.map { $0?.tensor }
        let outputs = try semantics.evaluate(node, inputs: inputs, opset: opset)
        return KernelOutputs(outputs.map { Value<S>($0) })
    }

    func backward(_ arguments: BackwardArguments<S>) throws -> [Dense<S>?] {
        arguments.needsGradient.map { _ in nil }
    }
}
