import ArgumentParser
import Foundation
import SPDYEngine
import SPDYGraph
import SPDYTensor

/// `spdy inspect MODEL`: inputs, outputs, operators, prunable layers with shapes, parameters and
/// FLOPs at a batch size; the engine's kernel per step with `--plan`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a model's layers, shapes, parameters, FLOPs and prunable set.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var engine: EngineArguments

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Also compile the model and list the engine's steps and kernels.")
    var plan = false

    struct Report: Encodable {
        struct Value: Encodable { var name: String; var dataType: String; var shape: [String] }
        struct Layer: Encodable {
            var id: String; var node: String; var opType: String; var weightShape: [Int]
            var parameters: Int; var flops: Int; var outputShape: [Int]
            /// Fraction of the weight that is zero.
            var sparsity: Double
            /// The engine's kernel for this layer (with --plan).
            var kernel: String?
        }
        struct Step: Encodable { var node: String; var kernel: String }
        var model: String
        var opset: Int
        var nodes: Int
        var parameters: Int
        var inputs: [Value]
        var outputs: [Value]
        var operators: [String: Int]
        var inputShapes: [String: [Int]]
        var prunableLayers: [Layer]
        var prunableParameters: Int
        var totalFlops: Int
        var steps: [Step]?
    }

    /// Fraction of a weight's entries that are zero.
    static func sparsity(_ weight: Tensor?) -> Double {
        guard let w = weight, w.dataType == .float32 else { return 0 }
        return 1 - Density.of(w.floats)
    }

    func run() throws {
        let graph = try model.loadGraph()
        let shapes = try model.inputShapes(for: graph)
        let analysis = try StaticAnalysis(graph, inputShapes: shapes)
        let layers = PrunableLayer.discover(in: graph, analysis: analysis)
        var operators: [String: Int] = [:]
        for node in graph.nodes { operators[node.opType, default: 0] += 1 }
        let describe = { (v: ValueInfo) in
            Report.Value(name: v.name, dataType: v.dataType.rawValue, shape: v.shape?.map(\.description) ?? ["?"])
        }
        var report = Report(
            model: model.model, opset: graph.opsetVersion, nodes: graph.nodes.count,
            parameters: graph.initializers.values.filter { $0.dataType == .float32 }.reduce(0) { $0 + $1.count },
            inputs: graph.inputs.map(describe), outputs: graph.outputs.map(describe), operators: operators,
            inputShapes: shapes,
            prunableLayers: layers.map {
                Report.Layer(id: $0.id, node: $0.node, opType: $0.opType, weightShape: $0.weightShape,
                             parameters: $0.parameters, flops: $0.flops, outputShape: analysis.type(of: $0.output).shape,
                             sparsity: Self.sparsity(graph.initializers[$0.id]), kernel: nil)
            },
            prunableParameters: layers.reduce(0) { $0 + $1.parameters },
            totalFlops: layers.reduce(0) { $0 + $1.flops })
        if plan {
            let compiled = try ExecutionPlan(graph: graph, inputShapes: shapes, options: engine.options)
            report.steps = compiled.stepDescriptions.map { Report.Step(node: $0.node, kernel: $0.kernel) }
            let byNode = Dictionary(compiled.stepDescriptions.map { ($0.node, $0.kernel) }, uniquingKeysWith: { a, _ in a })
            for i in report.prunableLayers.indices { report.prunableLayers[i].kernel = byNode[report.prunableLayers[i].node] }
        }
        if json {
            print(try JSONOutput.string(report))
            return
        }
        print("model      \(report.model)  (opset \(report.opset), \(report.nodes) nodes, \(Format.count(report.parameters)) parameters)")
        for v in report.inputs { print("input      \(v.name): \(v.dataType)[\(v.shape.joined(separator: ", "))]  compiled as \(shapes[v.name] ?? [])") }
        for v in report.outputs { print("output     \(v.name): \(v.dataType)[\(v.shape.joined(separator: ", "))]") }
        print("operators  " + operators.sorted { $0.value > $1.value }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
        print("")
        var table = TextTable(columns: ["#", "layer", "op", "weight", "params", "output", "MFLOPs", "sparsity"]
                              + (plan ? ["kernel"] : []))
        for (i, l) in report.prunableLayers.enumerated() {
            table.add([String(i), l.id, l.opType, l.weightShape.map(String.init).joined(separator: "×"),
                       Format.count(l.parameters), l.outputShape.map(String.init).joined(separator: "×"),
                       String(format: "%.1f", Double(l.flops) / 1e6), String(format: "%.1f%%", 100 * l.sparsity)]
                      + (plan ? [l.kernel ?? "(fused)"] : []))
        }
        print(table.render())
        print("\(report.prunableLayers.count) prunable layers, \(Format.count(report.prunableParameters)) weights, " +
              String(format: "%.2f GFLOPs", Double(report.totalFlops) / 1e9) + " at the shapes above")
        if let steps = report.steps {
            print("")
            var stepTable = TextTable(columns: ["step", "node", "kernel"])
            for (i, s) in steps.enumerated() { stepTable.add([String(i), s.node, s.kernel]) }
            print(stepTable.render())
        }
    }
}
