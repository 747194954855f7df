import Dispatch
import CBLAS

/// The engine's parallelism: a fixed thread count shared by our kernels and OpenBLAS.
///
/// Work is split into `threads` contiguous chunks run on `SpinningWorkers` (threads that stay
/// awake between the regions of a plan), or with `DispatchQueue.concurrentPerform` when those
/// are busy. OpenBLAS runs single-threaded inside each chunk:
/// all parallelism is ours (see `GEMM.sgemm(pool:…)`), so no two thread pools compete.
public struct ThreadPool: Sendable {
    /// The number of threads kernels may use (≥ 1).
    public let threads: Int

    /// A pool of `threads` threads; also makes OpenBLAS single-threaded.
    public init(threads: Int) {
        precondition(threads >= 1, "thread count must be at least 1")
        self.threads = threads
        openblas_set_num_threads(1)
        if threads > 1 { SpinningWorkers.shared.ensure(threads - 1) }
    }

    /// Runs `body(c)` for c in 0..<chunks in parallel.
    @inlinable
    func run(chunks: Int, _ body: (Int) -> Void) {
        if SpinningWorkers.shared.run(chunks: chunks, body) { return }
        withoutActuallyEscaping(body) { escapable in
            nonisolated(unsafe) let escapable = escapable
            DispatchQueue.concurrentPerform(iterations: chunks) { escapable($0) }
        }
    }

    /// Calls `body(chunk, range)` for `threads` disjoint chunks of `0..<count` (fewer when
    /// `count` is smaller); `chunk` indexes per-thread scratch memory.
    @inlinable
    public func parallelChunks(_ count: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = min(threads, count)
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        run(chunks: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(c, lo..<hi) }
        }
    }

    /// Calls `body(range)` on disjoint chunks covering `0..<count`, in parallel when worthwhile.
    /// `grain` is the smallest chunk worth a thread.
    @inlinable
    public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = min(threads, max(1, count / max(1, grain)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        // Chunks touch disjoint output ranges; the caller guarantees that.
        run(chunks: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}
