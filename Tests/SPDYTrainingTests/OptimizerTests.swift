import Foundation
import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYTraining

/// Optimisers, schedules, masks, the sampler and checkpoints.
@Suite("Optimisers")
struct OptimizerTests {
    /// Least squares y = x·W + b with targets from a known W* (zeros where `sparse`), so the
    /// minimum is exactly (W*, b*), masked or not.
    struct Regression {
        let graph: Graph
        let x: Tensor, target: Tensor
        let wStar: [Float], bStar: [Float]
        let pruned: [Bool]

        init(sparse: Bool) {
            var random = TestRandom(seed: 42)
            let (n, k, m) = (64, 6, 3)
            var b = GraphBuilder()
            let input = b.input("x", dims: [.symbolic("batch"), .fixed(k)])
            let y = b.op("Add", [b.op("MatMul", [input, b.initializer("w", random.tensor([k, m]))]), b.initializer("b", random.tensor([m]))])
            graph = b.graph([y])
            let pruned = (0..<(k * m)).map { sparse && $0 % 3 == 1 }
            let wStar = (0..<(k * m)).map { pruned[$0] ? 0 : Float(random.normal()) }
            let bStar = (0..<m).map { _ in Float(random.normal()) }
            let x = random.tensor([n, k])
            let xs = x.floats
            var t = [Float](repeating: 0, count: n * m)
            for i in 0..<n { for j in 0..<m {
                var s = bStar[j]
                for p in 0..<k { s += xs[i * k + p] * wStar[p * m + j] }
                t[i * m + j] = s
            } }
            (self.pruned, self.wStar, self.bStar, self.x) = (pruned, wStar, bStar, x)
            target = Tensor(shape: [n, m], floats: t)
        }

        /// Trains for `steps`; checks the masked elements after every step.
        func train(_ optimizer: Optimizer, steps: Int, masked: Bool) throws -> (w: [Float], b: [Float], loss: Double) {
            let executor = try TrainingExecutor(graph: graph)
            if masked { try executor.parameters.setMask("w", Tensor(shape: [6, 3], bools: pruned.map { !$0 })) }
            var loss = 0.0
            for _ in 0..<steps {
                let pass = try executor.forward(["x": x])
                let y = pass.value(graph.outputs[0].name)!
                let l = try Loss.meanSquaredError(y, target: target)
                loss = l.value
                executor.parameters.zeroGradients()
                try executor.backward(pass, seeds: [graph.outputs[0].name: l.gradient])
                optimizer.step(executor.parameters)
                if masked {
                    let w = executor.parameters.value("w")!.floats
                    #expect(zip(w, pruned).allSatisfy { !$1 || $0 == 0 }, "a pruned weight moved")
                }
            }
            return (executor.parameters.value("w")!.floats, executor.parameters.value("b")!.floats, loss)
        }

        func distance(_ w: [Float], _ b: [Float]) -> Float {
            max(zip(w, wStar).map { abs($0 - $1) }.max()!, zip(b, bStar).map { abs($0 - $1) }.max()!)
        }
    }

    @Test("Adam reaches the least-squares minimum, with and without a mask", arguments: [false, true])
    func adam(_ masked: Bool) throws {
        let problem = Regression(sparse: masked)
        let (w, b, loss) = try problem.train(Adam(schedule: .cosine(peak: 0.05, floor: 0, totalSteps: 1500, warmupSteps: 20)),
                                             steps: 1500, masked: masked)
        #expect(problem.distance(w, b) < 1e-3, "distance \(problem.distance(w, b)), loss \(loss)")
    }

    @Test("SGD with momentum (plain and Nesterov) reaches the minimum", arguments: [false, true])
    func sgd(_ nesterov: Bool) throws {
        let problem = Regression(sparse: true)
        let (w, b, loss) = try problem.train(SGD(schedule: .constant(0.05), settings: SGD.Settings(momentum: 0.9, nesterov: nesterov)),
                                             steps: 600, masked: true)
        #expect(problem.distance(w, b) < 1e-3, "distance \(problem.distance(w, b)), loss \(loss)")
    }

    @Test("a mask set during training: pruned weights stay zero and their optimiser state is cleared", arguments: ["adam", "sgd"])
    func maskDuringTraining(_ kind: String) throws {
        let problem = Regression(sparse: false)
        let optimizer: Optimizer = kind == "adam" ? Adam(schedule: .constant(0.01)) : SGD(schedule: .constant(0.01), settings: SGD.Settings(momentum: 0.9))
        let executor = try TrainingExecutor(graph: problem.graph)
        let output = problem.graph.outputs[0].name
        func step() throws {
            let pass = try executor.forward(["x": problem.x])
            let l = try Loss.meanSquaredError(pass.value(output)!, target: problem.target)
            executor.parameters.zeroGradients()
            try executor.backward(pass, seeds: [output: l.gradient])
            optimizer.step(executor.parameters)
        }
        /// The optimiser's per-element state of `w` (Adam's moments, SGD's momentum).
        func state() -> [[Float]] {
            let buffers = optimizer.exportState().buffers
            return (kind == "adam" ? ["m/w", "v/w"] : ["momentum/w"]).map { buffers[$0]!.floats }
        }
        for _ in 0..<5 { try step() }
        #expect(state().allSatisfy { $0.allSatisfy { $0 != 0 } }, "every element has state before pruning")
        let keep = (0..<18).map { $0 % 3 != 1 }
        try executor.parameters.setMask("w", Tensor(shape: [6, 3], bools: keep))
        for _ in 0..<4 {
            try step()
            let w = executor.parameters.value("w")!.floats
            #expect(zip(w, keep).allSatisfy { $1 || $0 == 0 }, "a pruned weight moved")
            #expect(zip(w, keep).allSatisfy { !$1 || $0 != 0 }, "a kept weight is zero")
            for buffer in state() {
                #expect(zip(buffer, keep).allSatisfy { $1 || $0 == 0 }, "a pruned weight kept optimiser state")
                #expect(zip(buffer, keep).allSatisfy { !$1 || $0 != 0 }, "a kept weight lost its state")
            }
        }
    }

    @Test("Adam's first steps match the published update rule computed by hand")
    func adamByHand() throws {
        var b = GraphBuilder()
        let x = b.input("x", [1, 2])
        let y = b.op("MatMul", [x, b.initializer("w", Tensor(shape: [2, 1], floats: [0.5, -1]))])
        let executor = try TrainingExecutor(graph: b.graph([y]))
        let settings = Adam.Settings(beta1: 0.9, beta2: 0.99, epsilon: 1e-3, weightDecay: 0.1)
        let adam = Adam(schedule: .constant(0.1), settings: settings)
        var theta = [0.5, -1.0], m = [0.0, 0.0], v = [0.0, 0.0]
        let feed = Tensor(shape: [1, 2], floats: [2, -3])
        for t in 1...3 {
            let pass = try executor.forward(["x": feed])
            executor.parameters.zeroGradients()
            try executor.backward(pass, seeds: [y: Tensor(shape: [1, 1], floats: [Float(t)])])
            adam.step(executor.parameters)
            for k in 0..<2 {
                let g = [2.0, -3.0][k] * Double(t) + 0.1 * theta[k]
                m[k] = 0.9 * m[k] + 0.1 * g
                v[k] = 0.99 * v[k] + 0.01 * g * g
                let mHat = m[k] / (1 - pow(0.9, Double(t))), vHat = v[k] / (1 - pow(0.99, Double(t)))
                theta[k] -= 0.1 * mHat / (vHat.squareRoot() + 1e-3)
            }
            let got = executor.parameters.value("w")!.floats
            #expect(zip(got, theta).allSatisfy { abs(Double($0) - $1) < 1e-5 }, "step \(t): \(got) vs \(theta)")
        }
    }

    @Test("learning-rate schedules")
    func schedules() {
        #expect(LearningRateSchedule.constant(0.1).rate(at: 1000) == 0.1)
        let s = LearningRateSchedule.cosine(peak: 1, floor: 0.1, totalSteps: 110, warmupSteps: 10)
        #expect(abs(s.rate(at: 0) - 0.1) < 1e-12 && abs(s.rate(at: 4) - 0.5) < 1e-12 && s.rate(at: 9) == 1)
        #expect(abs(s.rate(at: 10) - 1) < 1e-12)
        #expect(abs(s.rate(at: 60) - 0.55) < 1e-12, "half way: the mean of peak and floor")
        #expect(abs(s.rate(at: 110) - 0.1) < 1e-12 && abs(s.rate(at: 500) - 0.1) < 1e-12)
    }

    @Test("the sampler: every sample once per epoch, a new order per epoch, drop-last, resumable")
    func sampler() {
        var s = BatchSampler(count: 10, batchSize: 4, shuffle: true, dropLast: false, seed: 9)
        #expect(s.batchesPerEpoch == 3)
        let epoch0 = (0..<3).compactMap { _ in s.next() }
        #expect(epoch0.map(\.count) == [4, 4, 2] && Set(epoch0.flatMap { $0 }) == Set(0..<10))
        let saved = s
        let epoch1 = (0..<3).compactMap { _ in s.next() }
        #expect(s.epoch == 1 && epoch1.flatMap { $0 } != epoch0.flatMap { $0 })
        var resumed = saved
        #expect((0..<3).compactMap { _ in resumed.next() } == epoch1)
        #expect(BatchSampler(count: 10, batchSize: 4, dropLast: true, seed: 9).batches(epoch: 0).map(\.count) == [4, 4])
        #expect(BatchSampler(count: 5, batchSize: 2, shuffle: false, seed: 1).batches(epoch: 3) == [[0, 1], [2, 3], [4]])
        #expect(BatchSampler(count: 10, batchSize: 4, seed: 9).order(epoch: 2) == BatchSampler(count: 10, batchSize: 4, seed: 9).order(epoch: 2))
    }

    @Test("a checkpoint resumes a run exactly (Adam and SGD, masks, sampler)", arguments: ["adam", "sgd"])
    func checkpoint(_ kind: String) throws {
        let problem = Regression(sparse: true)
        func make() -> Optimizer {
            kind == "adam" ? Adam(schedule: .cosine(peak: 0.05, totalSteps: 20)) : SGD(schedule: .constant(0.02), settings: SGD.Settings(nesterov: true))
        }
        func run(_ executor: TrainingExecutor, _ optimizer: Optimizer, _ sampler: inout BatchSampler, steps: Int) throws {
            for _ in 0..<steps {
                let rows = sampler.next()!
                let xs = problem.x.floats, ts = problem.target.floats
                let x = Tensor(shape: [rows.count, 6], floats: rows.flatMap { xs[($0 * 6)..<($0 * 6 + 6)] })
                let t = Tensor(shape: [rows.count, 3], floats: rows.flatMap { ts[($0 * 3)..<($0 * 3 + 3)] })
                let pass = try executor.forward(["x": x])
                let l = try Loss.meanSquaredError(pass.value(problem.graph.outputs[0].name)!, target: t)
                executor.parameters.zeroGradients()
                try executor.backward(pass, seeds: [problem.graph.outputs[0].name: l.gradient])
                optimizer.step(executor.parameters)
            }
        }
        // The batch size does not divide the samples: programs for two batch shapes.
        var sampler = BatchSampler(count: 64, batchSize: 24, seed: 3)
        let a = try TrainingExecutor(graph: problem.graph), optA = make()
        try a.parameters.setMask("w", Tensor(shape: [6, 3], bools: problem.pruned.map { !$0 }))
        try run(a, optA, &sampler, steps: 4)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("spdy-train-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try TrainingCheckpoint.write(to: url, parameters: a.parameters, optimizer: optA, sampler: sampler, metadata: ["note": "x"])
        try run(a, optA, &sampler, steps: 5)

        let b = try TrainingExecutor(graph: problem.graph), optB = make()
        let restored = try TrainingCheckpoint.read(from: url, into: b.parameters, optimizer: optB)
        #expect(restored.metadata == ["note": "x"] && optB.stepCount == 4)
        var samplerB = try #require(restored.sampler)
        try run(b, optB, &samplerB, steps: 5)
        #expect(b.parameters.value("w") == a.parameters.value("w") && b.parameters.value("b") == a.parameters.value("b"))
        #expect(b.parameters.mask("w") == a.parameters.mask("w"))
    }
}

/// Losses: values by hand, gradients against central differences.
@Suite("Losses")
struct LossTests {
    func numericGradient(_ f: (Tensor) throws -> Double, at x: Tensor) rethrows -> [Double] {
        var result: [Double] = []
        for i in 0..<x.count {
            var plus = x.floats, minus = x.floats
            plus[i] += 1e-2
            minus[i] -= 1e-2
            result.append((try f(Tensor(shape: x.shape, floats: plus)) - f(Tensor(shape: x.shape, floats: minus))) / 2e-2)
        }
        return result
    }

    @Test("cross-entropy with integer labels")
    func crossEntropy() throws {
        let logits = Tensor(shape: [2, 3], floats: [1, 2, 3, 0.5, -1, 0])
        let l = try Loss.crossEntropy(logits: logits, labels: [2, 0])
        let expected = ((log(exp(1.0) + exp(2) + exp(3)) - 3) + (log(exp(0.5) + exp(-1) + exp(0)) - 0.5)) / 2
        #expect(abs(l.value - expected) < 1e-9)
        let numeric = try numericGradient({ try Loss.crossEntropy(logits: $0, labels: [2, 0]).value }, at: logits)
        #expect(zip(l.gradient.floats, numeric).allSatisfy { abs(Double($0) - $1) < 1e-4 })
        #expect(throws: TrainingError.self) { _ = try Loss.crossEntropy(logits: logits, labels: [3, 0]) }
    }

    @Test("mean squared error and the normalised distance")
    func distances() throws {
        let a = Tensor(shape: [2, 2], floats: [1, 2, 3, 4]), b = Tensor(shape: [2, 2], floats: [1.5, 2, 2, 5])
        let mse = try Loss.meanSquaredError(a, target: b)
        #expect(abs(mse.value - (0.25 + 0 + 1 + 1) / 4) < 1e-9)
        let d = try Loss.normalizedDistance(a, target: b)
        #expect(abs(d.value - 2.25 / (2.25 + 4 + 4 + 25)) < 1e-9)
        let numeric = try numericGradient({ try Loss.normalizedDistance($0, target: b).value }, at: a)
        #expect(zip(d.gradient.floats, numeric).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        let numericMSE = try numericGradient({ try Loss.meanSquaredError($0, target: b).value }, at: a)
        #expect(zip(mse.gradient.floats, numericMSE).allSatisfy { abs(Double($0) - $1) < 1e-4 })
    }

    @Test("the normalised distance leaves masked rows (padding tokens) out of both sums and the gradient")
    func maskedDistance() throws {
        // Three rows of two values; the middle row is padding.
        let a = Tensor(shape: [1, 3, 2], floats: [1, 2, 100, -100, 3, 4])
        let b = Tensor(shape: [1, 3, 2], floats: [1.5, 2, 7, 7, 2, 5])
        let d = try Loss.normalizedDistance(a, target: b, rowMask: [true, false, true])
        #expect(abs(d.value - (0.25 + 1 + 1) / (2.25 + 4 + 4 + 25)) < 1e-9)
        #expect(d.gradient.floats[2] == 0 && d.gradient.floats[3] == 0)
        let numeric = try numericGradient({ try Loss.normalizedDistance($0, target: b, rowMask: [true, false, true]).value }, at: a)
        #expect(zip(d.gradient.floats, numeric).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        #expect(throws: TrainingError.self) { _ = try Loss.normalizedDistance(a, target: b, rowMask: [true, false, true, true]) }
    }
}
