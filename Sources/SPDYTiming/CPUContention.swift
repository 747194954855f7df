import Foundation

/// How much CPU other processes used while we measured (Linux `/proc`): a timing table taken
/// while something else runs is biased, not only noisy (on MiniLM, contention slowed OpenBLAS's
/// dense steps more than the sparse kernels and the table overstated every speedup; see
/// docs/pipeline.md), so the timing commands warn when it happens.
public struct CPUContention {
    private let start: (busy: Double, own: Double, wall: Date)?

    /// Starts watching.
    public init() {
        start = Self.sample().map { ($0.busy, $0.own, Date()) }
    }

    /// The average share of the machine's cores that other processes kept busy since `init`
    /// (0…1), or nil where `/proc` is unavailable.
    public func othersShare() -> Double? {
        guard let start, let now = Self.sample() else { return nil }
        let wall = Date().timeIntervalSince(start.wall)
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        guard wall > 0, cores > 0 else { return nil }
        let others = (now.busy - start.busy) - (now.own - start.own)
        return min(1, max(0, others / (wall * cores)))
    }

    /// A warning when others used more than `threshold` of the machine, else nil.
    public func warning(threshold: Double = 0.1) -> String? {
        guard let share = othersShare(), share > threshold else { return nil }
        return String(format: "warning: other processes kept %.0f%% of the CPU busy during the measurement; timing tables measured under contention are biased (dense steps slow down more than sparse ones): measure again on a quiet machine", 100 * share)
    }

    /// Busy seconds of all cores and CPU seconds of this process.
    private static func sample() -> (busy: Double, own: Double)? {
        #if os(Linux)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticks > 0,
              let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let cpu = stat.split(separator: "\n").first, cpu.hasPrefix("cpu "),
              let own = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = own.lastIndex(of: ")") else { return nil }
        // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
        let fields = cpu.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 5 else { return nil }
        let busy = fields.prefix(8).reduce(0, +) - fields[3] - fields[4]
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let rest = own[own.index(after: close)...].split(separator: " ").compactMap { Double($0) }
        guard rest.count >= 13 else { return nil }
        return (busy / ticks, (rest[10] + rest[11]) / ticks)
        #else
        return nil
        #endif
    }
}
