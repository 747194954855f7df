import Foundation
import SwiftProtobuf
import SPDYGraph
import SPDYTensor

/// Translates our `Graph` into an ONNX `ModelProto`: initializers as little-endian raw_data,
/// attributes with explicit types, inputs/outputs as tensor value infos (symbolic dims as
/// dim_param), opset_import from `graph.opsetVersion` and the matching IR version.
enum ONNXExporter {
    /// The IR version ONNX pairs with a default-domain opset (onnx/helper.py's VERSION_TABLE).
    static func irVersion(forOpset opset: Int) -> Int64 {
        switch opset {
        case ...8: return 3
        case 9: return 4
        case 10: return 5
        case 11: return 6
        case 12...14: return 7
        case 15...18: return 8
        case 19...20: return 9
        case 21...22: return 10
        case 23: return 11
        case 24: return 12
        case 25...27: return 13
        default: return 14
        }
    }

    static func encode(_ graph: Graph) throws -> [UInt8] {
        let model = try modelProto(graph)
        do {
            return try model.serializedBytes()
        } catch {
            throw ONNXError(.invalid, file: graph.name.isEmpty ? "<graph>" : graph.name, reason: "cannot serialize: \(error)")
        }
    }

    static func modelProto(_ graph: Graph) throws -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = irVersion(forOpset: graph.opsetVersion)
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(graph.opsetVersion)
        model.opsetImport = [opset]
        // Custom domains used by nodes get an opset entry (version 1) so the file stays valid.
        for domain in Set(graph.nodes.map(\.domain)).subtracting([""]).sorted() {
            var entry = Onnx_OperatorSetIdProto()
            entry.domain = domain
            entry.version = 1
            model.opsetImport.append(entry)
        }
        model.producerName = graph.metadata["producer_name"] ?? "swift-spdy"
        if let version = graph.metadata["producer_version"] { model.producerVersion = version }
        for (key, value) in graph.metadata.sorted(by: { $0.key < $1.key })
        where key != "producer_name" && key != "producer_version" {
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            model.metadataProps.append(entry)
        }

        var g = Onnx_GraphProto()
        g.name = graph.name
        g.input = graph.inputs.map(valueInfo)
        g.output = graph.outputs.map(valueInfo)
        g.initializer = graph.initializers.keys.sorted().map { ONNXTensorCodec.proto(from: graph.initializers[$0]!, name: $0) }
        g.node = graph.nodes.map { node in
            var proto = Onnx_NodeProto()
            proto.name = node.name
            proto.opType = node.opType
            if !node.domain.isEmpty { proto.domain = node.domain }
            proto.input = node.inputs
            proto.output = node.outputs
            proto.attribute = node.attributes.keys.sorted().map { attribute($0, node.attributes[$0]!) }
            return proto
        }
        model.graph = g
        return model
    }

    static func valueInfo(_ info: ValueInfo) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = ONNXTensorCodec.code(for: info.dataType)
        if let shape = info.shape {
            var s = Onnx_TensorShapeProto()
            s.dim = shape.map { dim in
                var d = Onnx_TensorShapeProto.Dimension()
                switch dim {
                case .fixed(let v): d.dimValue = Int64(v)
                case .symbolic(let name) where !name.isEmpty: d.dimParam = name
                case .symbolic: break
                }
                return d
            }
            tensorType.shape = s
        }
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var proto = Onnx_ValueInfoProto()
        proto.name = info.name
        proto.type = type
        return proto
    }

    static func attribute(_ name: String, _ value: Attribute) -> Onnx_AttributeProto {
        var proto = Onnx_AttributeProto()
        proto.name = name
        switch value {
        case .int(let v): proto.type = .int; proto.i = Int64(v)
        case .float(let v): proto.type = .float; proto.f = v
        case .string(let v): proto.type = .string; proto.s = Data(v.utf8)
        case .ints(let v): proto.type = .ints; proto.ints = v.map { Int64($0) }
        case .floats(let v): proto.type = .floats; proto.floats = v
        case .strings(let v): proto.type = .strings; proto.strings = v.map { Data($0.utf8) }
        case .tensor(let t): proto.type = .tensor; proto.t = ONNXTensorCodec.proto(from: t, name: name)
        }
        return proto
    }
}
