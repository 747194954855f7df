import Foundation
import Testing
import SPDYEngine
import SPDYGraph
import SPDYONNX
import SPDYTensor

/// The committed opset-variety models (Tests/Fixtures/models/opset, made by
/// scripts/fixtures/make_opset_fixtures.py): axes as attribute (opset 11/12) and as input
/// (13/18), Constant-node weights, Gemm flags, grouped/strided/dilated/SAME convolutions. The
/// engine and the reference interpreter must both equal ONNX Runtime's outputs.
@Suite("Opset-variety models against ONNX Runtime")
struct OpsetFixtureTests {
    struct IndexEntry: Decodable { var name: String; var opset: Int }

    static let directory = ReferenceFixture.repositoryRoot.appendingPathComponent("Tests/Fixtures/models/opset")

    static var names: [String] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("index.json")),
              let entries = try? JSONDecoder().decode([IndexEntry].self, from: data) else { return [] }
        return entries.map(\.name)
    }

    @Test("the index lists the fixtures")
    func indexIsPresent() { #expect(Self.names.count >= 10) }

    @Test("engine and reference interpreter equal ONNX Runtime", arguments: OpsetFixtureTests.names)
    func matches(name: String) throws {
        let ref = Self.directory.appendingPathComponent("\(name).ref")
        let manifest = try JSONDecoder().decode(ReferenceFixture.Manifest.self,
                                                from: Data(contentsOf: ref.appendingPathComponent("manifest.json")))
        let graph = try ONNXModel.load(contentsOf: Self.directory.appendingPathComponent(manifest.model))
        var feeds: [String: Tensor] = [:]
        for input in manifest.inputs { feeds[input.name] = try NPY.read(contentsOf: ref.appendingPathComponent(input.file)) }
        let engine = try ExecutionPlan(graph: graph, inputShapes: feeds.mapValues(\.shape), options: EngineOptions(threads: 2)).run(feeds)
        let reference = try ReferenceInterpreter.run(graph, feeds: feeds)
        for output in manifest.outputs {
            let want = try NPY.read(contentsOf: ref.appendingPathComponent(output.file))
            for (label, outputs) in [("engine", engine), ("reference", reference)] {
                let got = try #require(outputs[output.name], "\(label) lacks \(output.name)")
                #expect(got.shape == want.shape, "\(name) \(label) \(output.name)")
                if got.shape == want.shape && got.dataType == .float32 && want.dataType == .float32 {
                    #expect(maxAbsDifference(got, want) <= 1e-4 * max(maxAbs(want), 1), "\(name) \(label) \(output.name)")
                } else if got.shape == want.shape {
                    #expect(got.doubles == want.doubles, "\(name) \(label) \(output.name)")
                }
            }
        }
    }
}
