import CBLAS
import Foundation

/// Which kernel runs the dense products of convolutions: our packed micro-kernel
/// (`PackedMatrix`, weights packed at compile time, epilogue fused into the stores) or OpenBLAS
/// sgemm followed by an epilogue pass.
///
/// Measured with `kernel-bench 1` on convolution and BERT shapes: on AVX2 cores (Zen 3) OpenBLAS
/// runs thin products (few rows or columns) far below peak and the packed kernel wins; where
/// OpenBLAS runs its AVX-512 kernels (core SkylakeX and later) it beats our 6×32 AVX-512 panel
/// on every shape by 1.1–1.5×, so convolutions use it there. `SPDY_DENSE_CONV=packed|openblas`
/// overrides the choice (benchmarks compare both).
public enum DenseProductChoice: String, Sendable {
    case packed, openblas

    /// OpenBLAS core names whose sgemm kernels are AVX-512.
    static let avx512Cores: Set<String> = ["SkylakeX", "Cooperlake", "SapphireRapids"]

    /// The kernel dense convolutions built now use: the task's `override` if there is one, else
    /// the process-wide choice (`detected` unless switched).
    public static var active: DenseProductChoice {
        get { override ?? processWide }
        set { processWide = newValue }
    }

    nonisolated(unsafe) static var processWide: DenseProductChoice = detected

    /// A choice for the current task only (tests).
    @TaskLocal public static var override: DenseProductChoice? = nil

    /// The choice this process's OpenBLAS and environment make.
    public static let detected: DenseProductChoice = {
        if let forced = ProcessInfo.processInfo.environment["SPDY_DENSE_CONV"].flatMap(DenseProductChoice.init(rawValue:)) {
            return forced
        }
        let core = openblas_get_corename().map { String(cString: $0) } ?? ""
        return avx512Cores.contains(core) ? .openblas : .packed
    }()
}
