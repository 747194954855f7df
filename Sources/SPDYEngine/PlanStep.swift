import SPDYKernels

/// One unit of work in an execution plan (a node, or several fused nodes).
protocol PlanStep: AnyObject {
    /// The name of the (first) node this step runs, for timing and hooks.
    var nodeName: String { get }
    /// A short description of the kernel, e.g. `Conv 3x3/1 im2col+packed+Relu`.
    var kernel: String { get }
    /// Float buffers the step reads and writes (for memory planning).
    var readBuffers: [Int] { get }
    var writtenBuffers: [Int] { get }
    /// Runs the step.
    func execute(_ memory: PlanMemory, _ pool: ThreadPool) throws
}

/// A step with one float input buffer and one float output buffer.
protocol SingleInputStep: PlanStep {
    var input: Int { get }
    var output: Int { get }
}

extension SingleInputStep {
    var readBuffers: [Int] { [input] }
    var writtenBuffers: [Int] { [output] }
}
