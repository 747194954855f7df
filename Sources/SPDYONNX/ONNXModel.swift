import Foundation
import SPDYGraph
import SPDYTensor

/// Reading and writing ONNX files. The only public face of this module: it speaks our IR
/// (`Graph`, `Tensor`); the protobuf types stay inside.
///
/// Supported: default-domain opsets 7…21 (semantics tested for 11…18); initializer element
/// types FLOAT, DOUBLE and FLOAT16 (stored as float32), INT64, INT32, INT8, UINT8, BOOL;
/// attribute types FLOAT, INT, STRING, TENSOR, FLOATS, INTS, STRINGS. See docs/onnx-import.md.
public enum ONNXModel {
    /// Imports the model at `url`. Throws `ONNXError` naming the file for unreadable, malformed
    /// or unsupported content.
    public static func load(contentsOf url: URL) throws -> Graph {
        try decode(bytes: read(url), source: url.path)
    }

    /// Imports a model from serialized bytes; `source` names them in errors.
    public static func decode(bytes: Data, source: String) throws -> Graph {
        let importer = ONNXImporter(file: source)
        return try importer.graph(from: importer.parseModel(bytes))
    }

    /// Imports a model from serialized bytes; `source` names them in errors.
    public static func decode(bytes: [UInt8], source: String) throws -> Graph {
        try decode(bytes: Data(bytes), source: source)
    }

    /// Reads a serialized ONNX `TensorProto` (`.pb`, as in the ONNX backend test data sets).
    public static func loadTensor(contentsOf url: URL) throws -> Tensor {
        try decodeTensor(bytes: read(url), source: url.path).tensor
    }

    /// Decodes a serialized `TensorProto`; returns its name ("" when unnamed) and contents.
    public static func decodeTensor(bytes: Data, source: String) throws -> (name: String, tensor: Tensor) {
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: bytes)
        } catch {
            throw ONNXError(.malformed, file: source, reason: "not a valid ONNX TensorProto: \(error)")
        }
        let what = proto.name.isEmpty ? "tensor" : "tensor '\(proto.name)'"
        return (proto.name, try ONNXTensorCodec.tensor(from: proto, what: what, file: source))
    }

    /// Serializes `graph` as an ONNX model (see `ONNXExporter`).
    public static func encode(_ graph: Graph) throws -> [UInt8] {
        try ONNXExporter.encode(graph)
    }

    /// Writes `graph` to `url` atomically (a temporary file renamed into place).
    public static func write(_ graph: Graph, to url: URL) throws {
        let bytes = try encode(graph)
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw ONNXError(.io, file: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    private static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw ONNXError(.io, file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
    }
}
