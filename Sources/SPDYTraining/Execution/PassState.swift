/// The values one forward pass holds for its outputs, hooks and backward pass. Releasing (or
/// deallocating) the pass returns its elements to the counter.
final class PassState<S: TrainingScalar> {
    let program: GraphProgram<S>
    /// Whether the forward was a training pass (BatchNorm batch statistics).
    let training: Bool
    private(set) var slots: [Value<S>?]
    var auxiliary: [Auxiliary<S>?]
    var backwardDone = false
    private let counter: ActivationCounter

    init(program: GraphProgram<S>, training: Bool, counter: ActivationCounter) {
        self.program = program
        self.training = training
        self.counter = counter
        slots = [Value<S>?](repeating: nil, count: program.slotTypes.count)
        auxiliary = [Auxiliary<S>?](repeating: nil, count: program.steps.count)
    }

    deinit {
        for slot in slots.indices { release(slot) }
        for i in auxiliary.indices { releaseAuxiliary(i) }
    }

    /// Stores `value` in `slot`.
    func store(_ value: Value<S>, in slot: Int) {
        release(slot)
        slots[slot] = value
        counter.hold(value.count)
    }

    /// Drops the value in `slot`.
    func release(_ slot: Int) {
        if let v = slots[slot] {
            counter.release(v.count)
            slots[slot] = nil
        }
    }

    /// Keeps step `i`'s backward data.
    func storeAuxiliary(_ aux: Auxiliary<S>, step i: Int) {
        releaseAuxiliary(i)
        auxiliary[i] = aux
        counter.hold(aux.count)
    }

    /// Drops step `i`'s backward data.
    func releaseAuxiliary(_ i: Int) {
        if let a = auxiliary[i] {
            counter.release(a.count)
            auxiliary[i] = nil
        }
    }
}
