import Foundation

/// Reading and writing NumPy `.npy` files (format versions 1–3, C order, little-endian).
///
/// Supported element types: `<f4`, `<f2`, `<f8` (read as float32), `<i8`, `<i4`, `<i2`, `|i1`,
/// `|u1`, `|b1`. Fortran-ordered and big-endian arrays are rejected with a clear error.
public enum NPY {
    /// Reads the `.npy` file at `url`.
    public static func read(contentsOf url: URL) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TensorIOError(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode([UInt8](data), source: url.path)
    }

    /// Decodes `.npy` bytes; `source` names the origin in errors.
    public static func decode(_ bytes: [UInt8], source: String = "<npy>") throws -> Tensor {
        let reader = ByteReader(bytes, source: source)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw reader.fail("not a .npy file (bad magic)") }
        let major = Int(bytes[6])
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1: headerLength = try reader.uint16(at: 8); headerStart = 10
        case 2, 3: headerLength = try reader.uint32(at: 8); headerStart = 12
        default: throw reader.fail("unsupported .npy version \(major)")
        }
        let headerBytes = try reader.slice(headerStart, headerLength)
        guard let header = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw reader.fail("header is not text")
        }
        let descr = try field("descr", in: header, reader: reader)
        let fortran = try field("fortran_order", in: header, reader: reader)
        let shapeText = try field("shape", in: header, reader: reader)
        guard fortran == "False" else { throw reader.fail("Fortran-ordered arrays are not supported") }
        let shape = try parseShape(shapeText, reader: reader)
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard count < Int.max / 8 else { throw reader.fail("shape \(shape) is too large") }
        let dataStart = headerStart + headerLength
        func payload(_ width: Int) throws -> ArraySlice<UInt8> {
            let raw = try reader.slice(dataStart, count * width)
            return raw
        }
        switch descr {
        case "<f4": return Tensor(shape: shape, floats: ElementDecoder.floats(try payload(4), count: count))
        case "<f2": return Tensor(shape: shape, floats: ElementDecoder.halfs(try payload(2), count: count))
        case "<f8": return Tensor(shape: shape, floats: ElementDecoder.doubles(try payload(8), count: count))
        case "<i8": return Tensor(shape: shape, integers: ElementDecoder.integers(try payload(8), count: count, as: Int64.self))
        case "<i4": return Tensor(shape: shape, integers: ElementDecoder.integers(try payload(4), count: count, as: Int32.self), dataType: .int32)
        case "<i2": return Tensor(shape: shape, integers: ElementDecoder.integers(try payload(2), count: count, as: Int16.self), dataType: .int32)
        case "|i1": return Tensor(shape: shape, integers: ElementDecoder.integers(try payload(1), count: count, as: Int8.self), dataType: .int8)
        case "|u1": return Tensor(shape: shape, integers: ElementDecoder.integers(try payload(1), count: count, as: UInt8.self), dataType: .uint8)
        case "|b1": return Tensor(shape: shape, bools: ElementDecoder.bools(try payload(1), count: count))
        default: throw reader.fail("unsupported element type '\(descr)' (supported: <f4 <f2 <f8 <i8 <i4 <i2 |i1 |u1 |b1)")
        }
    }

    /// Encodes `tensor` as `.npy` (version 1) bytes.
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let descr: String
        var payload: [UInt8] = []
        switch tensor.storage {
        case .float(let v):
            descr = "<f4"
            payload = v.withUnsafeBytes { Array($0) }
        case .integer(let v):
            switch tensor.dataType {
            case .int32: descr = "<i4"; payload = v.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
            case .int8: descr = "|i1"; payload = v.map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0)) }
            case .uint8: descr = "|u1"; payload = v.map { UInt8(truncatingIfNeeded: $0) }
            default: descr = "<i8"; payload = v.withUnsafeBytes { Array($0) }
            }
        case .bool(let v):
            descr = "|b1"
            payload = v.map { $0 ? 1 : 0 }
        }
        let shapeText = tensor.shape.isEmpty ? "()" :
            tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let length = header.utf8.count
        out.append(UInt8(length & 0xFF))
        out.append(UInt8(length >> 8))
        out.append(contentsOf: header.utf8)
        out.append(contentsOf: payload)
        return out
    }

    /// Writes `tensor` to `url` as `.npy`, atomically.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        do { try Data(encode(tensor)).write(to: url, options: .atomic) } catch {
            throw TensorIOError(file: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    private static func field(_ key: String, in header: String, reader: ByteReader) throws -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
            throw reader.fail("header lacks '\(key)'")
        }
        var rest = header[keyRange.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { throw reader.fail("malformed header near '\(key)'") }
        rest = rest.dropFirst().drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw reader.fail("unterminated shape") }
            return String(rest[rest.startIndex...close])
        }
        if let quote = rest.first, quote == "'" || quote == "\"" {
            let body = rest.dropFirst()
            guard let end = body.firstIndex(of: quote) else { throw reader.fail("unterminated '\(key)'") }
            return String(body[body.startIndex..<end])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return String(rest[rest.startIndex..<end]).trimmingCharacters(in: .whitespaces)
    }

    private static func parseShape(_ text: String, reader: ByteReader) throws -> [Int] {
        let inner = text.dropFirst().dropLast()
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if trimmed.isEmpty { continue }
            guard let d = Int(trimmed), d >= 0, d < 1 << 40 else { throw reader.fail("bad shape \(text)") }
            shape.append(d)
        }
        return shape
    }
}
