/// Per-thread scratch memory, 64-byte aligned (so packed tiles start on a cache line).
public final class ThreadScratch: @unchecked Sendable {
    public let floatsPerThread: Int
    let base: UnsafeMutablePointer<Float>

    public init(floatsPerThread: Int, threads: Int) {
        self.floatsPerThread = (max(1, floatsPerThread) + 15) / 16 * 16
        let count = self.floatsPerThread * max(1, threads)
        base = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        base.initialize(repeating: 0, count: count)
    }

    deinit { base.deallocate() }

    /// Thread chunk `chunk`'s scratch.
    public subscript(_ chunk: Int) -> UnsafeMutablePointer<Float> { base + chunk * floatsPerThread }
}
