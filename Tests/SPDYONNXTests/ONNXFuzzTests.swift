import Foundation
import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYONNX


/// A small real model for fuzzing: fixed input shape so static analysis runs through the nodes.
func fuzzSeedGraph() -> Graph {
    var g = sampleGraph()
    g.inputs = [ValueInfo(name: "x", dataType: .float32, shape: [.fixed(2), .fixed(4)])]
    g.outputs = [ValueInfo(name: "y", dataType: .float32, shape: [.fixed(2), .fixed(4)])]
    // Constant (tensor family) and the custom-domain node would stop analysis early; a Clip with
    // initializer bounds keeps more of the graph analysable.
    g.initializers["c"] = Tensor(shape: [1], floats: [3])
    g.initializers["lo"] = Tensor(scalar: -1)
    g.initializers["hi"] = Tensor(scalar: 6)
    g.nodes = g.nodes.filter { $0.opType != "Constant" && $0.domain.isEmpty }
    g.nodes.append(Node(name: "clip", opType: "Clip", inputs: ["y", "lo", "hi"], outputs: ["z"]))
    g.outputs.append(ValueInfo(name: "z", dataType: .float32, shape: [.fixed(2), .fixed(4)]))
    return g
}

enum Mutation: CaseIterable { case flip, truncate, insert, lengthField, overwriteRun }

/// Mutates `bytes` in one of several seeded ways.
func mutate(_ bytes: [UInt8], _ kind: Mutation, _ rng: inout SplitMix64) -> [UInt8] {
    var b = bytes
    switch kind {
    case .flip:
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let i = Int.random(in: 0..<b.count, using: &rng)
            b[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
        }
    case .truncate:
        b = Array(b.prefix(Int.random(in: 0..<b.count, using: &rng)))
    case .insert:
        let i = Int.random(in: 0...b.count, using: &rng)
        b.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
    case .lengthField:
        // Bytes following a length-delimited tag (wire type 2) are lengths: corrupt one.
        let candidates = b.indices.dropLast().filter { b[$0] & 7 == 2 }
        if let i = candidates.randomElement(using: &rng) {
            let choices: [UInt8] = [0x00, 0x7F, 0xFF, b[i + 1] &+ 1, b[i + 1] &- 1]
            b[i + 1] = choices.randomElement(using: &rng)!
        }
    case .overwriteRun:
        let i = Int.random(in: 0..<b.count, using: &rng)
        for j in i..<min(b.count, i + 8) { b[j] = [0x00, 0xFF, 0x80][Int.random(in: 0..<3, using: &rng)] }
    }
    return b
}

@Suite struct ONNXFuzzTests {
    @Test func mutatedAndTruncatedModelsNeverCrash() throws {
        let seed: UInt64 = 0x5EED_0_0ADD
        var rng = SplitMix64(seed: seed)
        let original = try ONNXModel.encode(fuzzSeedGraph())
        // The unmutated seed imports and analyses cleanly.
        let clean = try ONNXModel.decode(bytes: original, source: "seed.onnx")
        _ = try StaticAnalysis(clean)

        var imported = 0, rejected = 0, analysed = 0
        var perKind: [String: Int] = [:]
        let cases = 3000
        for n in 0..<cases {
            let kind = Mutation.allCases[n % Mutation.allCases.count]
            var bytes = mutate(original, kind, &rng)
            if n % 7 == 0 { bytes = mutate(bytes, Mutation.allCases.randomElement(using: &rng)!, &rng) }  // compound
            perKind["\(kind)", default: 0] += 1
            do {
                let g = try ONNXModel.decode(bytes: bytes, source: "fuzz-\(n).onnx")
                imported += 1
                try? g.validate()
                if (try? StaticAnalysis(g)) != nil { analysed += 1 }
                _ = try? ONNXModel.encode(g)
            } catch let error as ONNXError {
                rejected += 1
                #expect(!error.description.isEmpty)
                #expect(error.description.contains("fuzz-\(n).onnx"), "\(error)")
            } catch {
                Issue.record("case \(n): non-ONNXError \(type(of: error)): \(error)")
            }
        }
        print("ONNX importer fuzz (seed \(String(seed, radix: 16))): \(cases) files, \(imported) imported (\(analysed) analysed), \(rejected) rejected with errors; mutations \(perKind.sorted { $0.key < $1.key })")
        #expect(imported + rejected == cases)
        #expect(rejected > cases / 10)
    }

    @Test func everyTruncationPrefixIsHandled() throws {
        let original = try ONNXModel.encode(fuzzSeedGraph())
        var rejected = 0
        for length in 0..<original.count {
            do {
                _ = try ONNXModel.decode(bytes: Array(original.prefix(length)), source: "prefix.onnx")
            } catch let error as ONNXError {
                rejected += 1
                #expect(!error.description.isEmpty)
            }
        }
        print("ONNX importer truncation sweep: \(original.count) prefixes, \(rejected) rejected")
        #expect(rejected > 0)
    }

    @Test func mutatedTensorFilesNeverCrash() throws {
        var rng = SplitMix64(seed: 7)
        let original = try ONNXTensorCodec.proto(from: Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]), name: "t").serializedBytes() as [UInt8]
        for n in 0..<1000 {
            let bytes = mutate(original, Mutation.allCases[n % Mutation.allCases.count], &rng)
            do {
                _ = try ONNXModel.decodeTensor(bytes: Data(bytes), source: "t.pb")
            } catch let error as ONNXError {
                #expect(!error.description.isEmpty)
            }
        }
    }
}
