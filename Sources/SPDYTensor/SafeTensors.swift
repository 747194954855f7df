import Foundation

/// Reading safetensors files (Hugging Face's format: an 8-byte little-endian header length, a
/// JSON header naming each tensor's dtype, shape and byte range, then the raw bytes).
///
/// F32, F16, BF16 and F64 load as float32; I64, I32, I8, U8 and BOOL keep their types.
public enum SafeTensors {
    /// Reads every tensor in the file at `url`, keyed by name.
    public static func read(contentsOf url: URL) throws -> [String: Tensor] {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorIOError(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode([UInt8](data), source: url.path)
    }

    /// Decodes safetensors bytes; `source` names the origin in errors.
    public static func decode(_ bytes: [UInt8], source: String = "<safetensors>") throws -> [String: Tensor] {
        try decodeWithMetadata(bytes, source: source).tensors
    }

    /// Reads the tensors and the free-form `__metadata__` string map of the file at `url`.
    public static func readWithMetadata(contentsOf url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw TensorIOError(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decodeWithMetadata([UInt8](data), source: url.path)
    }

    /// Decodes the tensors and the `__metadata__` string map (empty when absent).
    public static func decodeWithMetadata(_ bytes: [UInt8], source: String = "<safetensors>") throws
        -> (tensors: [String: Tensor], metadata: [String: String])
    {
        guard bytes.count >= 8 else {
            throw TensorIOError(file: source, reason: "\(bytes.count) bytes: too short for a safetensors header")
        }
        let reader = ByteReader(bytes, source: source)
        let headerLength = try reader.uint64(at: 0)
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw reader.fail("header length \(headerLength) exceeds the file size \(bytes.count)")
        }
        let headerBytes = try reader.slice(8, Int(headerLength))
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(headerBytes)) } catch {
            throw reader.fail("header is not valid JSON")
        }
        guard let entries = json as? [String: Any] else { throw reader.fail("header is not a JSON object") }
        var metadata: [String: String] = [:]
        if let raw = entries["__metadata__"] {
            guard let map = raw as? [String: Any] else { throw reader.fail("__metadata__ is not a JSON object") }
            for (key, value) in map {
                guard let text = value as? String else { throw reader.fail("__metadata__ '\(key)' is not a string") }
                metadata[key] = text
            }
        }
        let dataStart = 8 + Int(headerLength)
        var tensors: [String: Tensor] = [:]
        for (name, value) in entries where name != "__metadata__" {
            guard let entry = value as? [String: Any],
                  let dtype = entry["dtype"] as? String,
                  let shapeValues = entry["shape"] as? [Any],
                  let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue
            else { throw reader.fail("tensor '\(name)': malformed header entry") }
            var shape: [Int] = []
            for d in shapeValues {
                guard let n = (d as? NSNumber)?.intValue, n >= 0, n < 1 << 40 else {
                    throw reader.fail("tensor '\(name)': bad shape \(shapeValues)")
                }
                shape.append(n)
            }
            let count = shape.reduce(1, *)
            guard begin >= 0, end >= begin else { throw reader.fail("tensor '\(name)': bad data offsets [\(begin), \(end)]") }
            let raw = try reader.slice(dataStart + begin, end - begin)
            func expect(_ width: Int) throws {
                guard raw.count == count * width else {
                    throw reader.fail("tensor '\(name)': \(raw.count) bytes for shape \(shape) of \(dtype)")
                }
            }
            switch dtype {
            case "F32": try expect(4); tensors[name] = Tensor(shape: shape, floats: ElementDecoder.floats(raw, count: count))
            case "F16": try expect(2); tensors[name] = Tensor(shape: shape, floats: ElementDecoder.halfs(raw, count: count))
            case "BF16": try expect(2); tensors[name] = Tensor(shape: shape, floats: ElementDecoder.bfloat16s(raw, count: count))
            case "F64": try expect(8); tensors[name] = Tensor(shape: shape, floats: ElementDecoder.doubles(raw, count: count))
            case "I64": try expect(8); tensors[name] = Tensor(shape: shape, integers: ElementDecoder.integers(raw, count: count, as: Int64.self))
            case "I32": try expect(4); tensors[name] = Tensor(shape: shape, integers: ElementDecoder.integers(raw, count: count, as: Int32.self), dataType: .int32)
            case "I8": try expect(1); tensors[name] = Tensor(shape: shape, integers: ElementDecoder.integers(raw, count: count, as: Int8.self), dataType: .int8)
            case "U8": try expect(1); tensors[name] = Tensor(shape: shape, integers: ElementDecoder.integers(raw, count: count, as: UInt8.self), dataType: .uint8)
            case "BOOL": try expect(1); tensors[name] = Tensor(shape: shape, bools: ElementDecoder.bools(raw, count: count))
            default: throw reader.fail("tensor '\(name)': unsupported dtype \(dtype)")
            }
        }
        return (tensors, metadata)
    }

    /// Encodes tensors (float32 as F32; uint8, int32 and int64 as U8, I32, I64; bool as BOOL) and a
    /// string metadata map. Tensors are laid out in the given order, 8-byte aligned.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body: [UInt8] = []
        for (name, tensor) in tensors {
            precondition(name != "__metadata__", "reserved tensor name")
            let begin = body.count
            let dtype: String
            switch tensor.dataType {
            case .float32:
                dtype = "F32"
                tensor.withUnsafeFloats { body.append(contentsOf: UnsafeRawBufferPointer($0)) }
            case .uint8:
                dtype = "U8"
                body.append(contentsOf: tensor.integers.map { UInt8(truncatingIfNeeded: $0) })
            case .int8:
                dtype = "I8"
                body.append(contentsOf: tensor.integers.map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0)) })
            case .int32:
                dtype = "I32"
                for v in tensor.integers { withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian) { body.append(contentsOf: $0) } }
            case .int64:
                dtype = "I64"
                for v in tensor.integers { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
            case .bool:
                dtype = "BOOL"
                body.append(contentsOf: tensor.bools.map { $0 ? 1 : 0 })
            }
            header[name] = ["dtype": dtype, "shape": tensor.shape, "data_offsets": [begin, body.count]] as [String: Any]
        }
        var json: [UInt8]
        do { json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) } catch {
            preconditionFailure("a safetensors header always serialises: \(error)")
        }
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + json.count + body.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += json
        bytes += body
        return bytes
    }
}
