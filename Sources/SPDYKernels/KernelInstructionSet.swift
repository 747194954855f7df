import CKernels
import Foundation

/// Instruction sets of the kernels that have an AVX-512 variant in C (`CKernels`): the sparse ×
/// dense products, fused attention, the dense packed micro-kernel and the direct convolution.
/// AVX2 means the Swift `SIMD8` code (AVX2/FMA on x86_64, NEON on arm64), and for the direct
/// convolution its AVX2 C kernel.
public enum KernelInstructionSet: String, Sendable, CaseIterable {
    case avx2, avx512

    /// The widest one this CPU runs, unless the environment variable `SPDY_SPARSE_ISA=avx2` asks
    /// for AVX2.
    public static let detected: KernelInstructionSet = {
        if ProcessInfo.processInfo.environment["SPDY_SPARSE_ISA"] == "avx2" { return .avx2 }
        return available.contains(.avx512) ? .avx512 : .avx2
    }()

    /// The instruction set kernels built now use: the task's `override` if there is one, else
    /// the process-wide choice (`detected` unless a benchmark switches it). Kernels capture it
    /// when they are built (`SparseMatrix`, `PackedMatrix`, `FusedAttention`), so a plan keeps
    /// its instruction set whatever is switched later, and on every thread it runs on.
    public static var active: KernelInstructionSet {
        get { override ?? processWide }
        set { processWide = newValue }
    }

    nonisolated(unsafe) static var processWide: KernelInstructionSet = .detected

    /// A choice for the current task only (`KernelInstructionSet.$override.withValue(.avx2) { … }`):
    /// how tests build kernels with each instruction set while other tests run in the process.
    @TaskLocal public static var override: KernelInstructionSet? = nil

    /// The instruction sets this CPU can run the kernels with.
    public static let available: [KernelInstructionSet] = spdy_cpu_has_avx512() == 1 ? [.avx2, .avx512] : [.avx2]
}
