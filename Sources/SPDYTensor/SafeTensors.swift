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
        return tensors
    }
}
