import Foundation
import SwiftProtobuf
import SPDYGraph
import SPDYTensor

/// Translates a decoded `ModelProto` into our `Graph`. Everything it reads is untrusted: every
/// problem becomes an `ONNXError` naming the file and the element concerned; nothing traps.
struct ONNXImporter {
    /// Opset versions of the default domain the importer accepts.
    ///
    /// 19…28: every registered operator's schema history up to opset 28 (onnx 1.23.2) was
    /// reviewed; the versions after 18 only add element types (float8, int4, bfloat16, string…)
    /// that the IR rejects anyway, except Pad 19 (`wrap`), Resize 19 (`half_pixel_symmetric`),
    /// AveragePool 19 (`dilations`), ReduceMax/ReduceMin 20 (bool), Range 27 (`stash_type`, only
    /// for float16/bfloat16 arithmetic) and Cast/CastLike 19+ (`saturate`/`round_mode`, float8
    /// only) — all of which follow the node's opset in the operators. They run the ONNX node
    /// conformance cases at those opsets. Below 7 the broadcast rules and many attributes differ.
    static let acceptedOpsets = 7...28
    /// Opset versions the operator semantics are written and tested for (models and unit tests).
    static let claimedOpsets = 11...18

    /// The file or source description used in errors.
    let file: String

    func fail(_ kind: ONNXError.Kind, _ reason: String) -> ONNXError {
        ONNXError(kind, file: file, reason: reason)
    }

    /// Parses protobuf bytes into a `ModelProto`.
    func parseModel(_ bytes: Data) throws -> Onnx_ModelProto {
        guard !bytes.isEmpty else { throw fail(.malformed, "the file is empty") }
        do {
            return try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw fail(.malformed, "not a valid ONNX protobuf (truncated or corrupted?): \(error)")
        }
    }

    /// Converts a model.
    func graph(from model: Onnx_ModelProto) throws -> Graph {
        guard model.hasGraph else { throw fail(.invalid, "the model has no graph") }
        let opset = try defaultOpset(model.opsetImport)
        let g = model.graph

        var initializers: [String: Tensor] = [:]
        for (i, proto) in g.initializer.enumerated() {
            let name = proto.name
            let what = name.isEmpty ? "initializer #\(i) (unnamed)" : "initializer '\(name)'"
            guard !name.isEmpty else { throw fail(.invalid, "\(what) has no name") }
            guard initializers[name] == nil else { throw fail(.invalid, "\(what) is defined twice") }
            initializers[name] = try ONNXTensorCodec.tensor(from: proto, what: what, file: file)
        }
        if let sparse = g.sparseInitializer.first {
            throw fail(.unsupported, "sparse initializer '\(sparse.values.name)': sparse initializers are not supported")
        }

        // Older exporters list initializers among the inputs; those are constants, not inputs.
        var inputs: [ValueInfo] = []
        var seen = Set<String>()
        for info in g.input where initializers[info.name] == nil {
            guard seen.insert(info.name).inserted else { throw fail(.invalid, "graph input '\(info.name)' is listed twice") }
            inputs.append(try valueInfo(info, role: "graph input"))
        }
        let outputs = try g.output.map { try valueInfo($0, role: "graph output") }

        var nodes: [Node] = []
        nodes.reserveCapacity(g.node.count)
        var usedNames = Set<String>()
        for (index, proto) in g.node.enumerated() {
            guard !proto.opType.isEmpty else { throw fail(.invalid, "node #\(index) ('\(proto.name)') has no op_type") }
            let base = proto.name.isEmpty ? "\(proto.opType)_\(index)" : proto.name
            var name = base
            var k = 1
            while usedNames.contains(name) {
                name = "\(base)_\(k)"
                k += 1
            }
            usedNames.insert(name)
            var attributes: [String: Attribute] = [:]
            for attr in proto.attribute {
                guard attributes[attr.name] == nil else {
                    throw fail(.invalid, "node '\(name)' (\(proto.opType)): attribute '\(attr.name)' is given twice")
                }
                attributes[attr.name] = try attribute(attr, node: name, opType: proto.opType)
            }
            let domain = proto.domain == "ai.onnx" ? "" : proto.domain
            nodes.append(Node(name: name, opType: proto.opType, domain: domain,
                              inputs: proto.input, outputs: proto.output, attributes: attributes))
        }

        var metadata: [String: String] = [:]
        for entry in model.metadataProps { metadata[entry.key] = entry.value }
        if model.hasProducerName { metadata["producer_name"] = model.producerName }
        if model.hasProducerVersion { metadata["producer_version"] = model.producerVersion }
        return Graph(name: g.name, inputs: inputs, outputs: outputs, initializers: initializers,
                     nodes: nodes, opsetVersion: opset, metadata: metadata)
    }

    /// The opset of the default domain ("" or "ai.onnx").
    func defaultOpset(_ imports: [Onnx_OperatorSetIdProto]) throws -> Int {
        guard let entry = imports.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            let others = imports.map { "\($0.domain) \($0.version)" }.joined(separator: ", ")
            throw fail(.invalid, "the model imports no opset for the default ONNX domain (opset_import: [\(others)])")
        }
        guard entry.version >= Int64(Self.acceptedOpsets.lowerBound), entry.version <= Int64(Self.acceptedOpsets.upperBound) else {
            throw fail(.unsupported, "default-domain opset \(entry.version) is outside the supported range \(Self.acceptedOpsets.lowerBound)…\(Self.acceptedOpsets.upperBound) (tested: \(Self.claimedOpsets.lowerBound)…\(Self.claimedOpsets.upperBound))")
        }
        return Int(entry.version)
    }

    /// A graph input or output's declared type.
    func valueInfo(_ info: Onnx_ValueInfoProto, role: String) throws -> ValueInfo {
        let what = "\(role) '\(info.name)'"
        guard !info.name.isEmpty else { throw fail(.invalid, "a \(role) has no name") }
        guard info.hasType else { throw fail(.invalid, "\(what) has no type") }
        guard case .tensorType(let tensorType)? = info.type.value else {
            throw fail(.unsupported, "\(what) is not a tensor (sequence, map, optional and sparse values are not supported)")
        }
        guard let dataType = ONNXTensorCodec.dataType(forCode: tensorType.elemType) else {
            throw fail(.unsupported, "\(what) has element type \(ONNXTensorCodec.typeName(tensorType.elemType)); supported: FLOAT, DOUBLE, FLOAT16, INT64, INT32, INT8, UINT8, BOOL")
        }
        guard tensorType.hasShape else { return ValueInfo(name: info.name, dataType: dataType, shape: nil) }
        var dims: [Dim] = []
        var fixedProduct = 1
        for d in tensorType.shape.dim {
            switch d.value {
            case .dimValue(let v)?:
                guard v >= 0 else { throw fail(.invalid, "\(what) has a negative dimension \(v)") }
                let (p, overflow) = fixedProduct.multipliedReportingOverflow(by: Int(clamping: v))
                guard !overflow, p <= ONNXTensorCodec.maxElements else {
                    throw fail(.invalid, "\(what) has an absurd shape (dimension \(v); limit \(ONNXTensorCodec.maxElements) elements)")
                }
                fixedProduct = p
                dims.append(.fixed(Int(v)))
            case .dimParam(let s)?: dims.append(.symbolic(s))
            case nil: dims.append(.symbolic(""))
            }
        }
        return ValueInfo(name: info.name, dataType: dataType, shape: dims)
    }

    /// Converts one attribute; unsupported kinds name node and attribute.
    func attribute(_ proto: Onnx_AttributeProto, node: String, opType: String) throws -> Attribute {
        let what = "node '\(node)' (\(opType)): attribute '\(proto.name)'"
        guard !proto.name.isEmpty else { throw fail(.invalid, "node '\(node)' (\(opType)) has an attribute without a name") }
        if proto.hasRefAttrName {
            throw fail(.unsupported, "\(what) refers to function attribute '\(proto.refAttrName)'; function attributes are not supported")
        }
        var type = proto.type
        if type == .undefined {  // IR < 2 files omit the type; infer it from the field present
            if proto.hasF { type = .float } else if proto.hasI { type = .int } else if proto.hasS { type = .string }
            else if proto.hasT { type = .tensor } else if proto.hasG { type = .graph }
            else if !proto.floats.isEmpty { type = .floats } else if !proto.ints.isEmpty { type = .ints }
            else if !proto.strings.isEmpty { type = .strings } else if !proto.graphs.isEmpty { type = .graphs }
            else { throw fail(.invalid, "\(what) has no type and no value") }
        }
        switch type {
        case .float: return .float(proto.f)
        case .int: return .int(Int(proto.i))
        case .string: return .string(String(decoding: proto.s, as: UTF8.self))
        case .tensor: return .tensor(try ONNXTensorCodec.tensor(from: proto.t, what: "tensor of \(what)", file: file))
        case .floats: return .floats(proto.floats)
        case .ints: return .ints(proto.ints.map { Int($0) })
        case .strings: return .strings(proto.strings.map { String(decoding: $0, as: UTF8.self) })
        default:
            throw fail(.unsupported, "\(what) has type \("\(type)".uppercased()); supported attribute types: FLOAT, INT, STRING, TENSOR, FLOATS, INTS, STRINGS (subgraphs, sparse tensors and type protos are not)")
        }
    }
}
