import Foundation
import Testing
import SPDYGraph
import SPDYTensor
@testable import SPDYONNX

/// A small graph touching every IR feature the exporter writes.
func sampleGraph() -> Graph {
    let w = Tensor(shape: [4], floats: [0.5, -1, 2, 0.25])
    let shape = Tensor(int64s: [2, 4])
    let mask = Tensor(shape: [4], bools: [true, false, true, false])
    let i32 = Tensor(shape: [2], integers: [-7, 70000], dataType: .int32)
    let i8 = Tensor(shape: [3], integers: [-128, 0, 127], dataType: .int8)
    let u8 = Tensor(shape: [1, 2], integers: [0, 255], dataType: .uint8)
    let nodes = [
        Node(name: "add", opType: "Add", inputs: ["x", "w"], outputs: ["a"]),
        Node(name: "relu", opType: "Relu", inputs: ["a"], outputs: ["r"]),
        Node(name: "const", opType: "Constant", inputs: [], outputs: ["c"],
             attributes: ["value": .tensor(Tensor(shape: [1], floats: [3]))]),
        Node(name: "mul", opType: "Mul", inputs: ["r", "c"], outputs: ["m"]),
        Node(name: "where", opType: "Where", inputs: ["mask", "m", "x"], outputs: ["y"]),
        Node(name: "attrs", opType: "Custom", domain: "com.example", inputs: ["y", ""], outputs: ["z"],
             attributes: ["i": .int(-3), "f": .float(1.5), "s": .string("héllo"), "is": .ints([1, -2, 3]),
                          "fs": .floats([0.5, -0.25]), "ss": .strings(["a", ""])]),
    ]
    return Graph(name: "sample",
                 inputs: [ValueInfo(name: "x", dataType: .float32, shape: [.symbolic("batch"), .fixed(4)])],
                 outputs: [ValueInfo(name: "y", dataType: .float32, shape: [.symbolic("batch"), .fixed(4)]),
                           ValueInfo(name: "z", dataType: .float32, shape: [.symbolic(""), .fixed(4)])],
                 initializers: ["w": w, "shape": shape, "mask": mask, "i32": i32, "i8": i8, "u8": u8],
                 nodes: nodes, opsetVersion: 13,
                 metadata: ["producer_name": "test", "producer_version": "1.0", "note": "x"])
}

/// Structural equality of two graphs (Graph itself is not Equatable).
func expectSameStructure(_ a: Graph, _ b: Graph, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.name == b.name, sourceLocation: sourceLocation)
    #expect(a.inputs == b.inputs, sourceLocation: sourceLocation)
    #expect(a.outputs == b.outputs, sourceLocation: sourceLocation)
    #expect(a.initializers == b.initializers, sourceLocation: sourceLocation)
    #expect(a.nodes == b.nodes, sourceLocation: sourceLocation)
    #expect(a.opsetVersion == b.opsetVersion, sourceLocation: sourceLocation)
    #expect(a.metadata == b.metadata, sourceLocation: sourceLocation)
}

/// A minimal valid model proto around one node, for error tests.
func modelProto(opset: Int64? = 13, node: Onnx_NodeProto? = nil, initializers: [Onnx_TensorProto] = []) -> Onnx_ModelProto {
    var model = Onnx_ModelProto()
    model.irVersion = 7
    if let opset {
        var o = Onnx_OperatorSetIdProto()
        o.domain = ""
        o.version = opset
        model.opsetImport = [o]
    }
    var g = Onnx_GraphProto()
    g.name = "g"
    var input = Onnx_ValueInfoProto()
    input.name = "x"
    var type = Onnx_TypeProto()
    var tt = Onnx_TypeProto.Tensor()
    tt.elemType = 1
    type.tensorType = tt
    input.type = type
    g.input = [input]
    var output = input
    output.name = "y"
    g.output = [output]
    if let node { g.node = [node] } else {
        var n = Onnx_NodeProto()
        n.opType = "Relu"
        n.input = ["x"]
        n.output = ["y"]
        g.node = [n]
    }
    g.initializer = initializers
    model.graph = g
    return model
}

func importProto(_ model: Onnx_ModelProto) throws -> Graph {
    try ONNXModel.decode(bytes: try model.serializedBytes() as [UInt8], source: "test.onnx")
}

func expectONNXError(_ kind: ONNXError.Kind, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an ONNXError (\(kind))", sourceLocation: sourceLocation)
    } catch let error as ONNXError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains("test.onnx"), "\(error)", sourceLocation: sourceLocation)
        for w in words { #expect(error.description.contains(w), "'\(w)' missing in: \(error)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected ONNXError, got \(error)", sourceLocation: sourceLocation)
    }
}

func tensorProto(_ name: String, type: Onnx_TensorProto.DataType, dims: [Int64], raw: [UInt8]? = nil,
                 configure: (inout Onnx_TensorProto) -> Void = { _ in }) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dataType = Int32(type.rawValue)
    t.dims = dims
    if let raw { t.rawData = Data(raw) }
    configure(&t)
    return t
}

@Suite struct ONNXImportTests {
    @Test func roundTripIsStructurallyEqual() throws {
        let g = sampleGraph()
        let bytes = try ONNXModel.encode(g)
        let back = try ONNXModel.decode(bytes: bytes, source: "memory")
        expectSameStructure(g, back)
        // Re-export is byte-identical (deterministic ordering).
        #expect(try ONNXModel.encode(back) == bytes)
    }

    @Test func writeIsAtomicAndLoadable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spdy-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.onnx")
        try ONNXModel.write(sampleGraph(), to: url)
        try ONNXModel.write(sampleGraph(), to: url)  // overwrite in place
        expectSameStructure(sampleGraph(), try ONNXModel.load(contentsOf: url))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.onnx"])
    }

    @Test func exportedHeaderMatchesOpset() throws {
        let model = try ONNXExporter.modelProto(sampleGraph())
        #expect(model.irVersion == 7)
        #expect(model.opsetImport.map(\.domain) == ["", "com.example"])
        #expect(model.opsetImport[0].version == 13)
        #expect(model.graph.initializer.allSatisfy { $0.hasRawData })
        #expect(ONNXExporter.irVersion(forOpset: 17) == 8)
        #expect(ONNXExporter.irVersion(forOpset: 11) == 6)
    }

    @Test func initializerTypesRawAndTyped() throws {
        func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
            values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        }
        let inits: [Onnx_TensorProto] = [
            tensorProto("f_raw", type: .float, dims: [2], raw: le([Float(1.5).bitPattern, Float(-2).bitPattern])),
            tensorProto("f_typed", type: .float, dims: [2, 1]) { $0.floatData = [3, 4] },
            tensorProto("i64_raw", type: .int64, dims: [2], raw: le([Int64(-5), Int64.max])),
            tensorProto("i64_typed", type: .int64, dims: []) { $0.int64Data = [42] },
            tensorProto("i32_raw", type: .int32, dims: [1], raw: le([Int32(-9)])),
            tensorProto("i32_typed", type: .int32, dims: [2]) { $0.int32Data = [1, -1] },
            tensorProto("i8_raw", type: .int8, dims: [2], raw: [0xFF, 0x7F]),
            tensorProto("i8_typed", type: .int8, dims: [1]) { $0.int32Data = [-100] },
            tensorProto("u8_raw", type: .uint8, dims: [2], raw: [0, 200]),
            tensorProto("b_raw", type: .bool, dims: [3], raw: [1, 0, 1]),
            tensorProto("b_typed", type: .bool, dims: [2]) { $0.int32Data = [0, 1] },
            tensorProto("d_raw", type: .double, dims: [1], raw: le([Double(0.1).bitPattern])),
            tensorProto("d_typed", type: .double, dims: [2]) { $0.doubleData = [2.5, -1e300] },
            tensorProto("h_raw", type: .float16, dims: [3], raw: le([UInt16(0x3C00), 0xC000, 0x7C00])),
            tensorProto("h_typed", type: .float16, dims: [1]) { $0.int32Data = [0x3800] },
            tensorProto("empty", type: .float, dims: [0, 3]),
        ]
        let g = try importProto(modelProto(initializers: inits))
        let t = g.initializers
        #expect(t["f_raw"] == Tensor(shape: [2], floats: [1.5, -2]))
        #expect(t["f_typed"] == Tensor(shape: [2, 1], floats: [3, 4]))
        #expect(t["i64_raw"] == Tensor(shape: [2], integers: [-5, .max]))
        #expect(t["i64_typed"] == Tensor(shape: [], integers: [42]))
        #expect(t["i32_raw"] == Tensor(shape: [1], integers: [-9], dataType: .int32))
        #expect(t["i32_typed"] == Tensor(shape: [2], integers: [1, -1], dataType: .int32))
        #expect(t["i8_raw"] == Tensor(shape: [2], integers: [-1, 127], dataType: .int8))
        #expect(t["i8_typed"] == Tensor(shape: [1], integers: [-100], dataType: .int8))
        #expect(t["u8_raw"] == Tensor(shape: [2], integers: [0, 200], dataType: .uint8))
        #expect(t["b_raw"] == Tensor(shape: [3], bools: [true, false, true]))
        #expect(t["b_typed"] == Tensor(shape: [2], bools: [false, true]))
        #expect(t["d_raw"] == Tensor(shape: [1], floats: [Float(0.1)]))
        #expect(t["d_typed"]?.floats[0] == 2.5)
        #expect(t["d_typed"]?.floats[1] == -.infinity)
        #expect(t["h_raw"] == Tensor(shape: [3], floats: [1, -2, .infinity]))
        #expect(t["h_typed"] == Tensor(shape: [1], floats: [0.5]))
        #expect(t["empty"] == Tensor(shape: [0, 3], floats: []))
    }

    @Test func unsupportedInitializerTypeNamesIt() {
        let t = tensorProto("names", type: .string, dims: [1]) { $0.stringData = [Data("a".utf8)] }
        expectONNXError(.unsupported, mentioning: ["initializer 'names'", "STRING"]) { _ = try importProto(modelProto(initializers: [t])) }
        let b = tensorProto("bf", type: .bfloat16, dims: [1], raw: [0, 0])
        expectONNXError(.unsupported, mentioning: ["initializer 'bf'", "BFLOAT16"]) { _ = try importProto(modelProto(initializers: [b])) }
    }

    @Test func inconsistentSizesAndDimsAreErrors() {
        let short = tensorProto("w", type: .float, dims: [3], raw: [0, 0, 0, 0])
        expectONNXError(.invalid, mentioning: ["initializer 'w'", "raw_data"]) { _ = try importProto(modelProto(initializers: [short])) }
        let typed = tensorProto("w", type: .int64, dims: [2]) { $0.int64Data = [1] }
        expectONNXError(.invalid, mentioning: ["initializer 'w'", "int64_data"]) { _ = try importProto(modelProto(initializers: [typed])) }
        let negative = tensorProto("w", type: .float, dims: [-1], raw: [])
        expectONNXError(.invalid, mentioning: ["initializer 'w'", "negative"]) { _ = try importProto(modelProto(initializers: [negative])) }
        let huge = tensorProto("w", type: .float, dims: [1 << 40, 1 << 40], raw: [])
        expectONNXError(.invalid, mentioning: ["initializer 'w'"]) { _ = try importProto(modelProto(initializers: [huge])) }
        let overflow = tensorProto("w", type: .float, dims: [Int64.max, 2], raw: [])
        expectONNXError(.invalid, mentioning: ["initializer 'w'"]) { _ = try importProto(modelProto(initializers: [overflow])) }
        let noData = tensorProto("w", type: .float, dims: [2])
        expectONNXError(.invalid, mentioning: ["initializer 'w'"]) { _ = try importProto(modelProto(initializers: [noData])) }
    }

    @Test func externalDataIsAClearError() {
        let t = tensorProto("big.weight", type: .float, dims: [1024]) {
            $0.dataLocation = .external
            var e = Onnx_StringStringEntryProto()
            e.key = "location"
            e.value = "weights.bin"
            $0.externalData = [e]
        }
        expectONNXError(.unsupported, mentioning: ["initializer 'big.weight'", "external-data files are not supported"]) {
            _ = try importProto(modelProto(initializers: [t]))
        }
    }

    @Test func constantNodeAttributesAreConverted() throws {
        func attr(_ name: String, _ configure: (inout Onnx_AttributeProto) -> Void) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            configure(&a)
            return a
        }
        var node = Onnx_NodeProto()
        node.opType = "Constant"
        node.output = ["y"]
        node.attribute = [
            attr("value") { $0.type = .tensor; $0.t = tensorProto("", type: .float, dims: [2]) { $0.floatData = [1, 2] } },
            attr("value_float") { $0.type = .float; $0.f = 2.5 },
            attr("value_int") { $0.type = .int; $0.i = -4 },
            attr("value_string") { $0.type = .string; $0.s = Data("abc".utf8) },
            attr("value_floats") { $0.type = .floats; $0.floats = [1, 2] },
            attr("value_ints") { $0.type = .ints; $0.ints = [5, 6] },
            attr("value_strings") { $0.type = .strings; $0.strings = [Data("p".utf8), Data("q".utf8)] },
            attr("untyped_int") { $0.i = 9 },  // IR<2 style: type inferred from the field present
        ]
        let g = try importProto(modelProto(node: node))
        let n = try #require(g.nodes.first)
        #expect(n.opType == "Constant" && n.name == "Constant_0")
        #expect(n.attributes["value"] == .tensor(Tensor(shape: [2], floats: [1, 2])))
        #expect(n.attributes["value_float"] == .float(2.5))
        #expect(n.attributes["value_int"] == .int(-4))
        #expect(n.attributes["value_string"] == .string("abc"))
        #expect(n.attributes["value_floats"] == .floats([1, 2]))
        #expect(n.attributes["value_ints"] == .ints([5, 6]))
        #expect(n.attributes["value_strings"] == .strings(["p", "q"]))
        #expect(n.attributes["untyped_int"] == .int(9))
    }

    @Test(arguments: [Onnx_AttributeProto.AttributeType.graph, .sparseTensor, .graphs, .tensors, .typeProto])
    func unsupportedAttributeTypesNameNodeAndAttribute(type: Onnx_AttributeProto.AttributeType) {
        var node = Onnx_NodeProto()
        node.name = "branch"
        node.opType = "If"
        node.input = ["x"]
        node.output = ["y"]
        var a = Onnx_AttributeProto()
        a.name = "then_branch"
        a.type = type
        node.attribute = [a]
        expectONNXError(.unsupported, mentioning: ["node 'branch'", "attribute 'then_branch'"]) { _ = try importProto(modelProto(node: node)) }
    }

    @Test func opsetDetection() throws {
        var model = modelProto(opset: nil)
        var custom = Onnx_OperatorSetIdProto()
        custom.domain = "com.microsoft"
        custom.version = 1
        var onnx = Onnx_OperatorSetIdProto()
        onnx.domain = "ai.onnx"
        onnx.version = 17
        model.opsetImport = [custom, onnx]
        #expect(try importProto(model).opsetVersion == 17)
        #expect(try importProto(modelProto(opset: 11)).opsetVersion == 11)
        #expect(try importProto(modelProto(opset: 7)).opsetVersion == 7)
        #expect(try importProto(modelProto(opset: 21)).opsetVersion == 21)
        expectONNXError(.unsupported, mentioning: ["opset 6"]) { _ = try importProto(modelProto(opset: 6)) }
        #expect(try importProto(modelProto(opset: 28)).opsetVersion == 28)
        expectONNXError(.unsupported, mentioning: ["opset 29"]) { _ = try importProto(modelProto(opset: 29)) }
    }

    @Test func missingOpsetIsAnError() {
        expectONNXError(.invalid, mentioning: ["opset"]) { _ = try importProto(modelProto(opset: nil)) }
    }

    @Test func inputsExcludeInitializersAndShapesConvert() throws {
        var model = modelProto(initializers: [tensorProto("x", type: .float, dims: [1]) { $0.floatData = [1] }])
        var extra = Onnx_ValueInfoProto()
        extra.name = "z"
        var type = Onnx_TypeProto()
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = 7
        var shape = Onnx_TensorShapeProto()
        var d0 = Onnx_TensorShapeProto.Dimension(); d0.dimParam = "N"
        var d1 = Onnx_TensorShapeProto.Dimension(); d1.dimValue = 3
        let d2 = Onnx_TensorShapeProto.Dimension()
        shape.dim = [d0, d1, d2]
        tt.shape = shape
        type.tensorType = tt
        extra.type = type
        model.graph.input.append(extra)
        let g = try importProto(model)
        #expect(g.inputs == [ValueInfo(name: "z", dataType: .int64, shape: [.symbolic("N"), .fixed(3), .symbolic("")])])
        #expect(g.outputs == [ValueInfo(name: "y", dataType: .float32, shape: nil)])
    }

    @Test func unnamedAndDuplicateNodeNamesBecomeUnique() throws {
        var model = modelProto()
        var a = Onnx_NodeProto(); a.opType = "Relu"; a.input = ["x"]; a.output = ["a"]
        var b = Onnx_NodeProto(); b.opType = "Relu"; b.name = "dup"; b.input = ["a"]; b.output = ["b"]
        var c = Onnx_NodeProto(); c.opType = "Relu"; c.name = "dup"; c.input = ["b"]; c.output = ["c"]
        var d = Onnx_NodeProto(); d.opType = "Relu"; d.name = "Relu_0"; d.domain = "ai.onnx"; d.input = ["c"]; d.output = ["y"]
        model.graph.node = [a, b, c, d]
        model.producerName = "pytorch"
        model.producerVersion = "2.5"
        let g = try importProto(model)
        #expect(g.nodes.map(\.name) == ["Relu_0", "dup", "dup_1", "Relu_0_1"])
        #expect(g.nodes.allSatisfy { $0.domain.isEmpty })
        #expect(g.metadata == ["producer_name": "pytorch", "producer_version": "2.5"])
    }

    @Test func customDomainsStayAndTheEngineNamesThem() throws {
        var node = Onnx_NodeProto()
        node.name = "fused"
        node.opType = "FusedGemm"
        node.domain = "com.microsoft"
        node.input = ["x"]
        node.output = ["y"]
        let g = try importProto(modelProto(node: node))
        #expect(g.nodes[0].domain == "com.microsoft")
        #expect(throws: GraphError.unsupportedOperator(opType: "FusedGemm", domain: "com.microsoft", node: "fused", opset: 13)) {
            _ = try ReferenceInterpreter.run(g, feeds: ["x": Tensor(scalar: 1)])
        }
    }

    @Test func malformedAndEmptyBytesAreErrors() {
        expectONNXError(.malformed, mentioning: ["empty"]) { _ = try ONNXModel.decode(bytes: [UInt8](), source: "test.onnx") }
        expectONNXError(.malformed, mentioning: []) { _ = try ONNXModel.decode(bytes: [0xFF, 0xFF, 0xFF], source: "test.onnx") }
        expectONNXError(.invalid, mentioning: ["no graph"]) { _ = try ONNXModel.decode(bytes: [0x08, 0x07], source: "test.onnx") }
    }

    @Test func tensorProtoFilesLoad() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spdy-pb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("input_0.pb")
        let tensor = Tensor(shape: [2, 2], floats: [1, -2, 3.5, 0])
        try ONNXTensorCodec.proto(from: tensor, name: "x").serializedData().write(to: url)
        #expect(try ONNXModel.loadTensor(contentsOf: url) == tensor)
        #expect(try ONNXModel.decodeTensor(bytes: Data(contentsOf: url), source: "t").name == "x")
        do {
            _ = try ONNXModel.loadTensor(contentsOf: dir.appendingPathComponent("missing.pb"))
            Issue.record("expected an error")
        } catch let e as ONNXError {
            #expect(e.kind == .io && e.description.contains("missing.pb"))
        }
    }
}
