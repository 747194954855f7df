import SPDYGraph
import SPDYTensor

/// Where a runtime value lives during execution: a float buffer (shared by aliases such as
/// Reshape) or, for the few non-float runtime values (token ids, masks), a tensor.
public struct Slot: Sendable {
    /// The value's static type.
    public var type: ValueType
    /// Index into `PlanMemory.buffers` for float values; nil for non-float values.
    public var buffer: Int?
    /// Index into `PlanMemory.tensors` for non-float values.
    public var tensor: Int?
}

/// The preallocated memory of a plan: float buffers and the non-float runtime tensors.
final class PlanMemory: @unchecked Sendable {
    var buffers: [UnsafeMutablePointer<Float>]
    var bufferSizes: [Int]
    var tensors: [Tensor?]

    init() {
        buffers = []
        bufferSizes = []
        tensors = []
    }

    /// Allocates a zeroed float buffer of `count` elements and returns its index.
    func allocate(_ count: Int) -> Int {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        buffers.append(p)
        bufferSizes.append(count)
        return buffers.count - 1
    }

    /// Adds a tensor slot and returns its index.
    func addTensor(_ t: Tensor?) -> Int {
        tensors.append(t)
        return tensors.count - 1
    }

    deinit {
        for p in buffers { p.deallocate() }
    }
}
