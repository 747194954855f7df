import Foundation
import Testing
import SPDYTiming

/// The contention guard of the timing commands sees another process's CPU use.
@Suite("CPU contention guard")
struct CPUContentionTests {
    @Test("a busy process next to us is reported")
    func seesOtherProcesses() throws {
        #if os(Linux)
        let watch = CPUContention()
        let spinner = Process()
        spinner.executableURL = URL(fileURLWithPath: "/bin/sh")
        spinner.arguments = ["-c", "end=$(( $(date +%s) + 2 )); while [ $(date +%s) -lt $end ]; do :; done"]
        try spinner.run()
        spinner.waitUntilExit()
        let share = try #require(watch.othersShare())
        // One spinning process on a machine of N cores: about 1/N of it (N = 2 here).
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        #expect(share > 0.5 / cores, "others' share \(share) while a process spun")
        #expect(watch.warning(threshold: 0.4 / cores) != nil)
        #endif
    }
}
