import SPDYTensor

/// The parameters of a `TrainingExecutor` (float32): values, accumulated gradients and masks.
///
/// Layouts are the initializers' own (OIHW convolution weights, Gemm weights as `transB` says,
/// MatMul weights [in, out]).
public final class TrainingParameters {
    let store: ParameterStore<Float>

    init(store: ParameterStore<Float>) { self.store = store }

    /// Every parameter name (trainable or not), sorted.
    public var names: [String] { store.entries.map(\.name) }

    /// The names of the parameters that train.
    public var trainableNames: [String] { store.entries.filter(\.trainable).map(\.name) }

    /// The number of trainable elements.
    public var trainableElementCount: Int { store.entries.filter(\.trainable).reduce(0) { $0 + $1.value.count } }

    /// The role of `name`, or nil when it is not a parameter.
    public func role(of name: String) -> ParameterRole? { store.index[name].map { store[$0].role } }

    /// Whether `name` trains.
    public func isTrainable(_ name: String) -> Bool { store.index[name].map { store[$0].trainable } ?? false }

    /// The current value of `name`.
    public func value(_ name: String) -> Tensor? { store.index[name].map { store[$0].value.tensor } }

    /// The gradient accumulated for `name` since the last `zeroGradients()` (zeros when none
    /// arrived; nil for names that are not parameters).
    public func gradient(_ name: String) -> Tensor? {
        guard let i = store.index[name] else { return nil }
        return (store[i].gradient ?? Dense(zeros: store[i].value.shape)).tensor
    }

    /// The mask of `name` (1 kept, 0 pruned), or nil when it has none.
    public func mask(_ name: String) -> Tensor? {
        guard let i = store.index[name], let m = store[i].mask else { return nil }
        return Tensor(shape: store[i].value.shape, floats: m)
    }

    /// Replaces the value of `name` (same element count); masked elements stay zero.
    public func setValue(_ name: String, _ value: Tensor) throws {
        let i = try entry(name)
        guard value.dataType == .float32, value.count == store[i].value.count else {
            throw TrainingError.parameterMismatch(name: name, reason: "value \(value.dataType)\(value.shape) for shape \(store[i].value.shape)")
        }
        store.setValue(i, Dense(value))
    }

    /// Sets the mask of `name`: a float (0 = pruned) or bool (false = pruned) tensor with the
    /// parameter's element count, or nil to remove it. Pruned elements are zeroed now, their
    /// gradients are dropped and optimisers leave them at zero.
    public func setMask(_ name: String, _ mask: Tensor?) throws {
        let i = try entry(name)
        guard let mask else { store.setMask(i, nil); return }
        guard mask.count == store[i].value.count, mask.dataType == .float32 || mask.dataType == .bool else {
            throw TrainingError.parameterMismatch(name: name, reason: "mask \(mask.dataType)\(mask.shape) for shape \(store[i].value.shape)")
        }
        store.setMask(i, mask.doubles.map { $0 != 0 ? 1 : 0 })
    }

    /// Masks every parameter at its current zeros (what one-shot pruning left), for the given
    /// roles. Returns the names masked.
    @discardableResult
    public func maskZeros(roles: Set<ParameterRole> = [.weight]) -> [String] {
        var masked: [String] = []
        for i in 0..<store.count where roles.contains(store[i].role) && store[i].value.data.contains(0) {
            store.setMask(i, store[i].value.data.map { $0 == 0 ? 0 : 1 })
            masked.append(store[i].name)
        }
        return masked
    }

    /// Forgets all accumulated gradients.
    public func zeroGradients() { store.zeroGradients() }

    private func entry(_ name: String) throws -> Int {
        guard let i = store.index[name] else { throw TrainingError.parameterMismatch(name: name, reason: "not a parameter of the model") }
        return i
    }
}
