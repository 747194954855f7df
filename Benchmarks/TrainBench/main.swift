// Training throughput of the SPDYTraining executor next to PyTorch CPU on the same model, batch
// and thread count: one step = forward + cross-entropy + backward + Adam, on a fixed batch.
// Rounds alternate between the two (Swift round, PyTorch round, …) after warm-up; the PyTorch
// side is scripts/python/train_bench_torch.py in a child process driven over a pipe.
//
// Run: swift build -c release -Xswiftc -enable-testing --product train-bench &&
//      .build/release/train-bench [--model models/demo/mnist_resnet.onnx] [--batch 32] [--threads 2]
//      [--steps 10] [--rounds 7] [--batchnorm batch|frozen] [--python .venv/bin/python] [--no-torch]
import Dispatch
import Foundation
import SPDYCLI
import SPDYGraph
import SPDYONNX
import SPDYTensor
import SPDYTraining

BLASCoreSelection.ensure()

struct Arguments {
    var model = "models/demo/mnist_resnet.onnx"
    var batch = 32
    var threads = 2
    var steps = 10
    var rounds = 7
    var batchNorm = "batch"
    var python = ProcessInfo.processInfo.environment["SPDY_PYTHON"] ?? ".venv/bin/python"
    var torch = true

    init() {
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let a = args.next() {
            switch a {
            case "--model": model = args.next()!
            case "--batch": batch = Int(args.next()!)!
            case "--threads": threads = Int(args.next()!)!
            case "--steps": steps = Int(args.next()!)!
            case "--rounds": rounds = Int(args.next()!)!
            case "--batchnorm": batchNorm = args.next()!
            case "--python": python = args.next()!
            case "--no-torch": torch = false
            default:
                FileHandle.standardError.write(Data("unknown argument \(a)\n".utf8))
                exit(2)
            }
        }
        precondition(["batch", "frozen"].contains(batchNorm), "--batchnorm batch|frozen")
    }
}

/// Seconds of `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The PyTorch side: a child process that runs `steps` steps per request and answers with seconds.
final class TorchWorker {
    let process = Process()
    let input = Pipe(), output = Pipe()
    var lines: [String] = []
    var buffer = Data()

    init(_ a: Arguments) throws {
        process.executableURL = URL(fileURLWithPath: a.python)
        process.arguments = ["scripts/python/train_bench_torch.py", "--model", a.model, "--batch", String(a.batch),
                             "--threads", String(a.threads), "--batchnorm", a.batchNorm]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let ready = try line()
        guard ready.hasPrefix("ready") else { throw CocoaError(.fileReadCorruptFile) }
        print("pytorch: \(ready.dropFirst(6))")
    }

    func line() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let l = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return l
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
            buffer.append(chunk)
        }
    }

    func run(steps: Int) throws -> Double {
        input.fileHandleForWriting.write(Data("run \(steps)\n".utf8))
        return Double(try line())!
    }

    func stop() {
        input.fileHandleForWriting.write(Data("quit\n".utf8))
        process.waitUntilExit()
    }
}

let a = Arguments()
let graph = try ONNXModel.load(contentsOf: URL(fileURLWithPath: a.model))
let inputInfo = graph.inputs[0]
let shape = [a.batch] + (inputInfo.shape ?? []).dropFirst().map { $0.value ?? 1 }
var rng = SystemRandomNumberGenerator()
let x = Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &rng) })
let options = TrainingOptions(threads: a.threads, batchNorm: a.batchNorm == "batch" ? .batchStatistics(momentum: nil) : .frozen)
let executor = try TrainingExecutor(graph: graph, options: options)
let output = graph.outputs[0].name
let adam = Adam(schedule: .constant(1e-5))
var labels: [Int] = []

@MainActor func swiftStep() throws {
    let pass = try executor.forward([inputInfo.name: x])
    let logits = pass.value(output)!
    if labels.isEmpty { labels = (0..<a.batch).map { $0 % logits.shape[1] } }
    let loss = try Loss.crossEntropy(logits: logits, labels: labels)
    executor.parameters.zeroGradients()
    try executor.backward(pass, seeds: [output: loss.gradient])
    adam.step(executor.parameters)
}

print("model \(a.model), batch \(a.batch), threads \(a.threads), BatchNorm \(a.batchNorm == "batch" ? "batch statistics" : "frozen"), " +
      "\(executor.parameters.trainableElementCount) trainable parameters, \(a.rounds) rounds × \(a.steps) steps")
for _ in 0..<3 { try swiftStep() }
let torch = a.torch ? try TorchWorker(a) : nil
_ = try torch?.run(steps: 3)
var swiftRates: [Double] = [], torchRates: [Double] = []
for _ in 0..<a.rounds {
    let t = try seconds { for _ in 0..<a.steps { try swiftStep() } }
    swiftRates.append(Double(a.batch * a.steps) / t)
    if let torch { torchRates.append(Double(a.batch * a.steps) / (try torch.run(steps: a.steps))) }
}
torch?.stop()

func summary(_ rates: [Double]) -> String {
    let s = rates.sorted()
    return String(format: "median %.0f samples/s (min %.0f, max %.0f)", s[s.count / 2], s.first!, s.last!)
}
print("swift-spdy: \(summary(swiftRates))")
print("peak activations: \(executor.activationStatistics.peak) floats (\(executor.activationStatistics.peak * 4 / 1_000_000) MB)")
if !torchRates.isEmpty {
    print("pytorch:    \(summary(torchRates))")
    let ratio = swiftRates.sorted()[swiftRates.count / 2] / torchRates.sorted()[torchRates.count / 2]
    print(String(format: "ratio swift/pytorch: %.2f", ratio))
}
