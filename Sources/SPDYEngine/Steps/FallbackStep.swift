import SPDYGraph
import SPDYKernels
import SPDYTensor

/// Runs a node with its reference semantics on tensors copied from and to the plan's memory:
/// full operator coverage for the cheap operators (shape arithmetic on runtime values, token
/// gathers, masks, resizes) without a dedicated kernel.
final class FallbackStep: PlanStep {
    let nodeName: String
    let node: Node
    let semantics: any OperatorSemantics.Type
    let opset: Int
    /// For each node input: nil (omitted or constant), or the slot it reads.
    let inputSlots: [Slot?]
    /// For each node input: its value when known at compile time (no copy per run).
    let constants: [Tensor?]
    let outputSlots: [Slot?]

    init(node: Node, semantics: any OperatorSemantics.Type, opset: Int, inputSlots: [Slot?], constants: [Tensor?],
         outputSlots: [Slot?]) {
        self.nodeName = node.name
        self.node = node
        self.semantics = semantics
        self.opset = opset
        self.inputSlots = inputSlots
        self.constants = constants
        self.outputSlots = outputSlots
    }

    var kernel: String { "reference \(node.opType)" }
    var readBuffers: [Int] { inputSlots.compactMap { $0?.buffer } }
    var writtenBuffers: [Int] { outputSlots.compactMap { $0?.buffer } }

    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws {
        let inputs: [Tensor?] = zip(inputSlots, constants).map { slot, constant in constant ?? slot.map { memory.read($0) } }
        let outputs = try semantics.evaluate(node, inputs: inputs, opset: opset)
        for (slot, value) in zip(outputSlots, outputs) {
            guard let slot else { continue }
            memory.write(value, to: slot)
        }
    }
}

extension PlanMemory {
    /// The value in `slot` as a tensor (a copy for float buffers).
    func read(_ slot: Slot) -> Tensor {
        if let b = slot.buffer {
            return Tensor(shape: slot.type.shape, floats: Array(UnsafeBufferPointer(start: pointer(b), count: slot.type.count)))
        }
        guard let t = slot.tensor, let value = tensors[t] else { preconditionFailure("slot has no value") }
        return value
    }

    /// Stores `value` in `slot`. Precondition: the static type matches.
    func write(_ value: Tensor, to slot: Slot) {
        precondition(value.shape == slot.type.shape, "shape \(value.shape) for slot of \(slot.type)")
        if let b = slot.buffer {
            value.withUnsafeFloats { src in pointer(b).update(from: src.baseAddress!, count: src.count) }
        } else if let t = slot.tensor {
            tensors[t] = value
        }
    }
}
