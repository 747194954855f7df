import SPDYKernels
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

/// The memory of a plan: float buffers and the non-float runtime tensors.
///
/// Buffers are first *reserved* (a size only); `pin` gives one its own allocation at once
/// (constants, inputs, outputs, observed values); `place(lifetimes:)` packs every other buffer
/// into one arena so that buffers whose lifetimes do not overlap share memory.
final class PlanMemory: @unchecked Sendable {
    private(set) var buffers: [UnsafeMutablePointer<Float>?] = []
    private(set) var sizes: [Int] = []
    private(set) var pinned: Set<Int> = []
    var tensors: [Tensor?] = []
    private var allocations: [UnsafeMutablePointer<Float>] = []
    /// Elements in the shared arena after placement (for reports).
    private(set) var arenaSize = 0

    /// Reserves a float buffer of `count` elements; memory comes with `pin` or `place`.
    func reserve(_ count: Int) -> Int {
        buffers.append(nil)
        sizes.append(count)
        return buffers.count - 1
    }

    /// Gives buffer `index` its own zeroed allocation, excluded from sharing.
    func pin(_ index: Int) {
        guard buffers[index] == nil else { pinned.insert(index); return }
        buffers[index] = allocate(sizes[index])
        pinned.insert(index)
    }

    /// The pointer of buffer `index`. Precondition: pinned or placed.
    func pointer(_ index: Int) -> UnsafeMutablePointer<Float> {
        guard let p = buffers[index] else { preconditionFailure("buffer \(index) has no memory yet") }
        return p
    }

    /// Adds a tensor slot and returns its index.
    func addTensor(_ t: Tensor?) -> Int {
        tensors.append(t)
        return tensors.count - 1
    }

    /// Packs every unpinned buffer into one arena: buffers whose step intervals `[first, last]`
    /// overlap get disjoint memory; others may share (greedy by size, first fit).
    /// Buffers without a lifetime (never used by a step) get their own allocation.
    func place(lifetimes: [Int: ClosedRange<Int>]) {
        let alignment = 16
        var placed: [(offset: Int, size: Int, life: ClosedRange<Int>)] = []
        var offsets: [Int: Int] = [:]
        let candidates = (0..<buffers.count).filter { buffers[$0] == nil && !pinned.contains($0) && lifetimes[$0] != nil }
        for index in candidates.sorted(by: { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }) {
            let life = lifetimes[index]!
            let size = (max(sizes[index], 1) + alignment - 1) / alignment * alignment
            let conflicts = placed.filter { $0.life.overlaps(life) }.sorted { $0.offset < $1.offset }
            var offset = 0
            for c in conflicts where offset + size > c.offset {
                offset = max(offset, c.offset + c.size)
            }
            placed.append((offset, size, life))
            offsets[index] = offset
            arenaSize = max(arenaSize, offset + size)
        }
        let arena = allocate(arenaSize)
        for (index, offset) in offsets { buffers[index] = arena + offset }
        for index in buffers.indices where buffers[index] == nil { buffers[index] = allocate(sizes[index]) }
    }

    private func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = AlignedFloats.allocateLarge(max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        allocations.append(p)
        return p
    }

    deinit {
        for p in allocations { p.deallocate() }
    }
}
