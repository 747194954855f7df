#if canImport(Glibc)
import Glibc
#endif
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

/// Float memory aligned to a 64-byte cache line: 32-byte vector loads from an aligned base never
/// straddle two lines (a split load costs a second load slot; unaligned bases made kernel times
/// depend on where malloc happened to place a buffer, by up to 1.6× on the sparse kernels).
public enum AlignedFloats {
    /// Allocates `count` (at least 1) uninitialised floats on a 64-byte boundary; free with `deallocate()`.
    public static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        return UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: n)
    }

    /// Bytes from which `allocateLarge` asks for transparent huge pages.
    public static let hugePageThreshold = 4 << 20

    /// Like `allocate`, but a large allocation (≥ `hugePageThreshold` bytes: a plan's activation
    /// arena) is aligned to 2 MiB and advised to the kernel as huge pages, before anything
    /// touches it. Convolutions on channel-blocked activations read one line from each of dozens
    /// of planes hundreds of kilobytes apart: with 4 KiB pages, every line of a 50 MB tensor is
    /// another TLB miss. Free with `deallocate()`.
    public static func allocateLarge(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1), bytes = n * MemoryLayout<Float>.stride
        guard bytes >= hugePageThreshold else { return allocate(n) }
        let huge = 2 << 20
        let raw = UnsafeMutableRawPointer.allocate(byteCount: (bytes + huge - 1) / huge * huge, alignment: huge)
        #if os(Linux)
        _ = madvise(raw, (bytes + huge - 1) / huge * huge, MADV_HUGEPAGE)
        #endif
        return raw.bindMemory(to: Float.self, capacity: n)
    }
}
