import CBLAS
import Foundation

/// Makes sure OpenBLAS runs its AVX2/AVX-512 kernels.
///
/// Debian's OpenBLAS 0.3.21 chooses its kernels by CPU model at load time and falls back to
/// "Prescott" (SSE3, several times slower) on CPUs it does not know, e.g. this workplace's
/// "Intel(R) Xeon(R) Processor" VMs with AVX-512. The choice can only be overridden before the
/// library loads (`OPENBLAS_CORETYPE`), so `spdy` re-executes itself once with the variable set
/// when OpenBLAS reports a pre-AVX2 core on a CPU that has AVX2 and FMA. A user's own
/// `OPENBLAS_CORETYPE` is respected.
public enum BLASCoreSelection {
    /// Core names of kernels older than AVX2.
    static let legacyCores: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai",
                                           "Coppermine", "Northwood", "Banias", "Athlon", "Opteron", "Barcelona", "Bobcat", "Sandybridge"]

    /// Re-executes the process with a suitable `OPENBLAS_CORETYPE` when needed; otherwise returns.
    public static func ensure() {
        #if os(Linux) && arch(x86_64)
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, let name = openblas_get_corename().map({ String(cString: $0) }),
              legacyCores.contains(name),
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        guard flags.contains("avx2"), flags.contains("fma") else { return }
        let core = ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) ? "SkylakeX" : "Haswell"
        setenv("OPENBLAS_CORETYPE", core, 1)
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv("/proc/self/exe", arguments)
        // execv only returns on failure: go on with the slow kernels rather than stop.
        #endif
    }
}
