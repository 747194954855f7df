import Dispatch
import SPDYGraph
import SPDYKernels
import SPDYTensor

/// A graph compiled for fixed input shapes and a thread count: a list of kernels over
/// preallocated buffers. Compile once, run many times.
///
/// Hooks: every value named in `EngineOptions.observed` (and every graph output) can be read
/// after a run with `value(named:)`; `run(_:timings:)` records each step's duration.
public final class ExecutionPlan: @unchecked Sendable {
    /// The graph this plan runs.
    public let graph: Graph
    /// The concrete input types the plan was compiled for.
    public let inputTypes: [String: ValueType]
    /// The compile options.
    public let options: EngineOptions
    let memory: PlanMemory
    let steps: [any PlanStep]
    let slots: [String: Slot]
    let pool: ThreadPool

    init(graph: Graph, inputTypes: [String: ValueType], options: EngineOptions, memory: PlanMemory,
         steps: [any PlanStep], slots: [String: Slot], pool: ThreadPool) {
        self.graph = graph
        self.inputTypes = inputTypes
        self.options = options
        self.memory = memory
        self.steps = steps
        self.slots = slots
        self.pool = pool
    }

    /// Bytes of activation memory shared between steps (the arena) after buffer planning.
    public var arenaBytes: Int { memory.arenaSize * MemoryLayout<Float>.size }

    /// The steps in execution order: node name and kernel description.
    public var stepDescriptions: [(node: String, kernel: String)] {
        steps.map { ($0.nodeName, $0.kernel) }
    }

    /// Runs the plan on `feeds` (input name → tensor) and returns the graph outputs by name.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try load(feeds)
        for step in steps { try step.execute(memory, pool) }
        return try outputs()
    }

    /// Runs the plan and adds each step's duration (nanoseconds) to `timings[i]` for step i.
    public func run(_ feeds: [String: Tensor], timings: inout [UInt64]) throws -> [String: Tensor] {
        try load(feeds)
        if timings.count != steps.count { timings = [UInt64](repeating: 0, count: steps.count) }
        for (i, step) in steps.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            try step.execute(memory, pool)
            timings[i] &+= DispatchTime.now().uptimeNanoseconds - start
        }
        return try outputs()
    }

    /// Runs only the steps, on the inputs loaded by the previous run (for timing loops).
    public func rerun() throws {
        for step in steps { try step.execute(memory, pool) }
    }

    /// The current contents of `name`: a graph output, an observed value or a constant.
    public func value(named name: String) throws -> Tensor {
        // Only values with their own memory survive a run: activations share an arena.
        if let slot = slots[name], slot.buffer.map({ memory.pinned.contains($0) }) ?? true { return memory.read(slot) }
        throw EngineError.unknownValue(name: name)
    }

    private func load(_ feeds: [String: Tensor]) throws {
        for name in feeds.keys where inputTypes[name] == nil {
            throw EngineError.unexpectedFeed(input: name, known: graph.inputs.map(\.name))
        }
        for input in graph.inputs {
            guard let tensor = feeds[input.name] else { throw EngineError.missingFeed(input: input.name) }
            guard let type = inputTypes[input.name], let slot = slots[input.name] else { continue }
            let compatible = tensor.dataType == type.dataType ||
                (tensor.dataType.isInteger && type.dataType.isInteger)
            guard tensor.shape == type.shape, compatible else {
                throw EngineError.feedMismatch(input: input.name, expected: "\(type)", got: "\(tensor.dataType)\(tensor.shape)")
            }
            memory.write(tensor, to: slot)
        }
    }

    private func outputs() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for output in graph.outputs { result[output.name] = try value(named: output.name) }
        return result
    }
}
