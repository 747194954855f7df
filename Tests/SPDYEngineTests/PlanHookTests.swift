import Foundation
import Testing
import SPDYEngine
import SPDYGraph
import SPDYONNX
import SPDYTensor

/// The plan's hooks: observed values survive fusion and buffer sharing; step timings cover
/// every step; unobserved intermediates are refused rather than returning stale memory.
@Suite("Execution plan hooks")
struct PlanHookTests {
    @Test("observed layer inputs and outputs equal the reference interpreter's")
    func observedValues() throws {
        let fixture = try ReferenceFixture("mnist_resnet")
        let graph = try ONNXModel.load(contentsOf: fixture.modelURL)
        let feeds = try fixture.inputs()
        let analysis = try StaticAnalysis(graph, inputShapes: feeds.mapValues(\.shape))
        let layers = PrunableLayer.discover(in: graph, analysis: analysis)
        let observed = Set(layers.flatMap { [$0.input, $0.output] })
        let plan = try ExecutionPlan(graph: graph, inputShapes: feeds.mapValues(\.shape),
                                     options: EngineOptions(threads: 2, observed: observed))
        _ = try plan.run(feeds)
        // The reference interpreter on a graph whose outputs are the observed values.
        var probe = graph
        probe.outputs = observed.sorted().map { ValueInfo(name: $0, dataType: .float32, shape: nil) }
        let expected = try ReferenceInterpreter.run(probe, feeds: feeds)
        for name in observed.sorted() {
            let got = try plan.value(named: name), want = try #require(expected[name])
            let scale = max(maxAbs(want), 1e-6)
            #expect(maxAbsDifference(got, want) <= 1e-4 * scale, "\(name)")
        }
    }

    @Test("unobserved intermediates are refused; timings cover every step")
    func unobservedAndTimings() throws {
        let fixture = try ReferenceFixture("mnist_resnet")
        let graph = try ONNXModel.load(contentsOf: fixture.modelURL)
        let feeds = try fixture.inputs()
        let plan = try ExecutionPlan(graph: graph, inputShapes: feeds.mapValues(\.shape))
        var timings: [UInt64] = []
        let outputs = try plan.run(feeds, timings: &timings)
        #expect(timings.count == plan.stepDescriptions.count && timings.allSatisfy { $0 > 0 })
        #expect(outputs["logits"] != nil)
        let intermediate = graph.nodes[3].outputs[0]
        #expect(throws: EngineError.self) { try plan.value(named: intermediate) }
        #expect(plan.arenaBytes > 0)
    }
}
