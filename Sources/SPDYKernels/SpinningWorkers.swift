import CKernels
import Dispatch
import Foundation
import Synchronization

/// The engine's worker threads: created once, they spin for a short while after each parallel
/// region before they sleep, so the next region (a plan runs one every few microseconds) starts
/// without a thread wake-up. `DispatchQueue.concurrentPerform` wakes a pooled thread per region;
/// on a VM that costs tens of microseconds and lets the two halves of a region start apart.
///
/// One region runs at a time: the caller runs chunk 0, worker i runs chunk i + 1. A caller that
/// finds the workers busy (another plan running on another thread, or a region inside a region)
/// gets `false` from `run` and uses `concurrentPerform` instead.
@usableFromInline
final class SpinningWorkers: @unchecked Sendable {
    @usableFromInline static let shared = SpinningWorkers()

    /// How long an idle worker spins before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    /// `SPDY_SPINNING_WORKERS=0` turns them off (every region on `concurrentPerform`).
    static let enabled = ProcessInfo.processInfo.environment["SPDY_SPINNING_WORKERS"] != "0"

    private final class Worker: @unchecked Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    private let lock = NSLock()
    private var workers: [Worker] = []
    /// Incremented for each region; workers watch it.
    private let generation = Atomic<Int>(0)
    /// Worker chunks of the current region not finished yet.
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// The current region's body and chunk count; written before `generation` is released.
    private nonisolated(unsafe) var body: ((Int) -> Void)? = nil
    private nonisolated(unsafe) var chunks = 0

    /// Makes sure at least `count` workers exist.
    @usableFromInline func ensure(_ count: Int) {
        lock.lock()
        defer { lock.unlock() }
        while workers.count < count {
            // The worker's first region is the next one: read the generation now, not when the
            // thread gets to run (a region published in between would be missed).
            let worker = Worker(), index = workers.count, seen = generation.load(ordering: .acquiring)
            workers.append(worker)
            let thread = Thread { [self] in self.loop(worker, index: index, seen: seen) }
            thread.name = "spdy-worker-\(index)"
            thread.start()
        }
    }

    /// Runs `body(c)` for c in 0..<chunks (chunk 0 on the calling thread) and returns true, or
    /// returns false without running anything when the workers are busy or too few.
    @usableFromInline func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        guard chunks >= 2, Self.enabled, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        lock.lock()
        let available = workers
        lock.unlock()
        guard available.count >= chunks - 1 else {
            busy.store(false, ordering: .releasing)
            return false
        }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            self.chunks = chunks
            remaining.store(chunks - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            for worker in available.prefix(chunks - 1) where worker.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                worker.wake.signal()
            }
            escapable(0)
            // Spin while the workers finish; yield the core if they take long (another process
            // may hold it, and spinning would only delay them).
            // The clock is read every 64 pauses, as in the workers' loop (read on every pause it
            // showed up as 2–3% of a pruned MiniLM run in perf).
            let start = DispatchTime.now().uptimeNanoseconds
            while remaining.load(ordering: .acquiring) > 0 {
                for _ in 0..<64 where remaining.load(ordering: .acquiring) > 0 { spinPause() }
                if DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds { sched_yield() }
            }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    /// Calls the current body; not inlined, so that the worker's reference to the body is gone
    /// before it reports the chunk done (the body is a non-escaping closure of the caller).
    @inline(never)
    private func runChunk(_ chunk: Int) { body?(chunk) }

    private func loop(_ worker: Worker, index: Int, seen start: Int) {
        var seen = start
        while true {
            var current = generation.load(ordering: .acquiring)
            if current == seen {
                let start = DispatchTime.now().uptimeNanoseconds
                while current == seen && DispatchTime.now().uptimeNanoseconds - start < Self.spinNanoseconds {
                    for _ in 0..<64 { spinPause() }
                    current = generation.load(ordering: .acquiring)
                }
            }
            if current == seen {
                // Sleep; the dispatcher clears `sleeping` and signals. A region published between
                // the flag and the check is caught by the check (and its signal consumed).
                worker.sleeping.store(true, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) != seen {
                    if !worker.sleeping.exchange(false, ordering: .sequentiallyConsistent) { worker.wake.wait() }
                } else {
                    worker.wake.wait()
                }
                continue
            }
            seen = current
            if index + 1 < chunks {
                runChunk(index + 1)
                remaining.subtract(1, ordering: .releasing)
            }
        }
    }
}

/// A hint to the CPU that this is a spin-wait loop (`pause` on x86_64).
@inline(__always)
func spinPause() { spdy_cpu_pause() }
