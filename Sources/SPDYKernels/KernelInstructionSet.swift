import CKernels
import Foundation

/// Instruction sets of the kernels that have an AVX-512 variant in C (`CKernels`): the sparse ×
/// dense products, fused attention and the dense packed micro-kernel. AVX2 means the Swift `SIMD8` code (AVX2/FMA on x86_64,
/// NEON on arm64).
public enum KernelInstructionSet: String, Sendable, CaseIterable {
    case avx2, avx512

    /// The widest one this CPU runs, unless the environment variable `SPDY_SPARSE_ISA=avx2` asks
    /// for AVX2.
    public static let detected: KernelInstructionSet = {
        if ProcessInfo.processInfo.environment["SPDY_SPARSE_ISA"] == "avx2" { return .avx2 }
        return available.contains(.avx512) ? .avx512 : .avx2
    }()

    /// The instruction set the kernels use (process-wide): `detected` unless a benchmark or test
    /// switches it to compare both. Set it before running plans, not while they run.
    nonisolated(unsafe) public static var active: KernelInstructionSet = .detected

    /// The instruction sets this CPU can run the kernels with.
    public static let available: [KernelInstructionSet] = spdy_cpu_has_avx512() == 1 ? [.avx2, .avx512] : [.avx2]
}
