import Foundation
import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYTraining

/// Gradient checks of the executor on a small graph.
///
/// The loss is a fixed random projection of every graph output, L = Σ r ⊙ y (so its gradient
/// seeds are r). Three comparisons, with explicit tolerances:
/// 1. float64 analytic gradients (the executor in `Double`) against float64 central differences
///    (h = 1e-5) for every trainable parameter and requested input (up to `samples` elements
///    each): |analytic − numeric| ≤ 1e-5·|numeric| + 1e-7·max(1, |L|, max|gradient|).
/// 2. float32 analytic gradients against the float64 ones:
///    |g32 − g64| ≤ 1e-3·|g64| + 1e-4·max|g64| + 1e-5·(largest gradient of the graph).
/// 3. the float32 forward outputs against `ReferenceInterpreter`: |y − ref| ≤ 1e-4·max(1, max|ref|).
struct GradientCheck {
    var graph: Graph
    var feeds: [String: Tensor]
    var inputGradients: Set<String> = []
    var batchNorm: BatchNormMode = .frozen
    var samples = 16
    var seed: UInt64 = 7
    var workspaceElements = 1 << 22
    /// Skip the comparison with the reference interpreter (operators it evaluates differently).
    var compareWithReference = true
    /// Intermediate values that also enter the loss (seeded in backward: the hook gAP uses).
    var retained: [String] = []

    /// Runs the checks, recording failures with `sourceLocation`. Returns the number of
    /// numeric derivatives compared.
    @discardableResult
    func run(sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let exec = try GraphExecutor<Double>(graph: graph, selection: .all, batchNorm: batchNorm, threads: 1,
                                             workspaceElements: workspaceElements)
        var feeds64 = feeds.mapValues { Value<Double>($0) }
        var random = TestRandom(seed: seed)
        let outputNames = graph.outputs.map(\.name) + retained
        let pass = try exec.forward(feeds64, retaining: Set(retained), differentiable: true, training: true, inputGradients: inputGradients)
        var weights: [String: Dense<Double>] = [:]
        var lossValue = 0.0
        for name in outputNames {
            let v = try #require(exec.value(name, in: pass), "no output \(name)", sourceLocation: sourceLocation).dense
            let r = Dense<Double>(shape: v.shape, data: (0..<v.count).map { _ in random.normal() })
            weights[name] = r
            lossValue += zip(r.data, v.data).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let inputGrads64 = try exec.backward(pass, seeds: weights)
        func loss() throws -> Double {
            let p = try exec.forward(feeds64, retaining: Set(retained), differentiable: true, training: true)
            var total = 0.0
            for name in outputNames {
                let v = exec.value(name, in: p)!.dense
                total += zip(weights[name]!.data, v.data).reduce(0) { $0 + $1.0 * $1.1 }
            }
            return total
        }
        let h = 1e-5
        var compared = 0
        func check(_ what: String, analytic: [Double], perturb: (Int, Double) -> Void) throws {
            let scale = analytic.reduce(0) { max($0, abs($1)) }
            let tolerance = 1e-7 * max(1, abs(lossValue), scale)
            var picks = Array(0..<analytic.count)
            if picks.count > samples {
                var r = TestRandom(seed: seed &+ UInt64(analytic.count))
                picks = (0..<samples).map { _ in r.rng.nextIndex(below: analytic.count) }
            }
            for j in picks {
                perturb(j, h)
                let plus = try loss()
                perturb(j, -2 * h)
                let minus = try loss()
                perturb(j, h)
                let numeric = (plus - minus) / (2 * h)
                compared += 1
                #expect(abs(analytic[j] - numeric) <= 1e-5 * abs(numeric) + tolerance,
                        "\(what)[\(j)]: analytic \(analytic[j]), numeric \(numeric)", sourceLocation: sourceLocation)
            }
        }
        var analyticParameters: [String: [Double]] = [:]
        for i in 0..<exec.store.count where exec.store[i].trainable {
            let analytic = exec.store[i].gradient?.data ?? [Double](repeating: 0, count: exec.store[i].value.count)
            analyticParameters[exec.store[i].name] = analytic
            try check("parameter \(exec.store[i].name)", analytic: analytic) { j, delta in exec.store[i].value.data[j] += delta }
        }
        for name in inputGradients.sorted() {
            let analytic = try #require(inputGrads64[name], "no gradient for input \(name)", sourceLocation: sourceLocation).data
            try check("input \(name)", analytic: analytic) { j, delta in
                var d = feeds64[name]!.dense
                d.data[j] += delta
                feeds64[name] = .dense(d)
            }
        }
        #expect(compared > 0, "nothing to check: no trainable parameter or input gradient", sourceLocation: sourceLocation)

        // float32 executor against the float64 analytic gradients.
        let exec32 = try GraphExecutor<Float>(graph: graph, selection: .all, batchNorm: batchNorm, threads: 2,
                                              workspaceElements: workspaceElements)
        let pass32 = try exec32.forward(feeds.mapValues { Value<Float>($0) }, retaining: Set(retained), differentiable: true, training: true,
                                        inputGradients: inputGradients)
        let outputs32 = Dictionary(uniqueKeysWithValues: outputNames.map { ($0, exec32.value($0, in: pass32)!.tensor) })
        let inputGrads32 = try exec32.backward(pass32, seeds: weights.mapValues { Dense<Float>(shape: $0.shape, data: $0.data.map(Float.init)) })
        // Rounding in float32 scales with the gradients flowing through the whole graph, so the
        // absolute term also has a share of the largest gradient anywhere (a parameter whose true
        // gradient is 0, like a bias before BatchNorm in batch mode, gets float32 noise).
        let global = (Array(analyticParameters.values) + inputGrads64.values.map(\.data)).flatMap { $0 }.reduce(0) { max($0, abs($1)) }
        func close(_ what: String, _ g32: [Float], _ g64: [Double]) {
            let scale = g64.reduce(0) { max($0, abs($1)) }
            let worst = zip(g32, g64).map { abs(Double($0) - $1) - 1e-3 * abs($1) }.max() ?? 0
            #expect(g32.count == g64.count && worst <= 1e-4 * scale + 1e-5 * global,
                    "\(what): float32 gradient off by \(worst) beyond tolerance (scale \(scale))", sourceLocation: sourceLocation)
        }
        for i in 0..<exec32.store.count where exec32.store[i].trainable {
            let g32 = exec32.store[i].gradient?.data ?? [Float](repeating: 0, count: exec32.store[i].value.count)
            close("parameter \(exec32.store[i].name)", g32, analyticParameters[exec32.store[i].name] ?? [])
        }
        for name in inputGradients { close("input \(name)", inputGrads32[name]?.data ?? [], inputGrads64[name]?.data ?? []) }

        if compareWithReference {
            let reference = try ReferenceInterpreter.run(graph, feeds: feeds)
            for name in graph.outputs.map(\.name) {
                let expected = reference[name]!.floats, got = outputs32[name]!.floats
                let scale = max(1, expected.reduce(0) { max($0, abs($1)) })
                let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
                #expect(got.count == expected.count && worst <= 1e-4 * scale,
                        "output \(name): float32 forward differs from the reference interpreter by \(worst) (scale \(scale))",
                        sourceLocation: sourceLocation)
            }
        }
        return compared
    }
}
