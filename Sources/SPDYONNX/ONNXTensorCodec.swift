import Foundation
import SPDYTensor

/// Converts between ONNX `TensorProto` and `Tensor`. Reads untrusted data: every size is checked
/// before use and nothing traps.
enum ONNXTensorCodec {
    /// The largest element count (and per-dimension size) accepted: 2^31. Larger tensors are
    /// absurd for this project and would let later shape arithmetic overflow.
    static let maxElements = 1 << 31

    typealias ProtoType = Onnx_TensorProto.DataType

    /// A readable name of an ONNX element type code.
    static func typeName(_ code: Int32) -> String {
        if let t = ProtoType(rawValue: Int(code)) { return "\(t)".uppercased() }
        return "type code \(code)"
    }

    /// Our element type for an ONNX element type code (DOUBLE and FLOAT16 widen/narrow to
    /// float32), or nil when unsupported.
    static func dataType(forCode code: Int32) -> DataType? {
        switch ProtoType(rawValue: Int(code)) {
        case .float?, .double?, .float16?: return .float32
        case .int64?: return .int64
        case .int32?: return .int32
        case .int8?: return .int8
        case .uint8?: return .uint8
        case .bool?: return .bool
        default: return nil
        }
    }

    /// The ONNX element type code written for our type.
    static func code(for dataType: DataType) -> Int32 {
        switch dataType {
        case .float32: return Int32(ProtoType.float.rawValue)
        case .int64: return Int32(ProtoType.int64.rawValue)
        case .int32: return Int32(ProtoType.int32.rawValue)
        case .int8: return Int32(ProtoType.int8.rawValue)
        case .uint8: return Int32(ProtoType.uint8.rawValue)
        case .bool: return Int32(ProtoType.bool.rawValue)
        }
    }

    /// Checks dims (non-negative, not absurd, product without overflow) and returns shape and count.
    static func checkedShape(_ dims: [Int64], what: String, file: String) throws -> (shape: [Int], count: Int) {
        var count = 1
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            guard d >= 0 else {
                throw ONNXError(.invalid, file: file, reason: "\(what) has a negative dimension in \(dims)")
            }
            guard d <= Int64(maxElements) else {
                throw ONNXError(.invalid, file: file, reason: "\(what) has an absurd dimension \(d) in \(dims) (limit \(maxElements))")
            }
            let (p, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, p <= maxElements else {
                throw ONNXError(.invalid, file: file, reason: "\(what) has too many elements (dims \(dims), limit \(maxElements))")
            }
            count = p
            shape.append(Int(d))
        }
        return (shape, count)
    }

    /// Converts a TensorProto; `what` names it in errors (e.g. "initializer 'conv1.weight'").
    static func tensor(from proto: Onnx_TensorProto, what: String, file: String) throws -> Tensor {
        if proto.dataLocation == .external || !proto.externalData.isEmpty {
            throw ONNXError(.unsupported, file: file, reason: "\(what) stores its data in an external file; external-data files are not supported (re-save the model with all tensors inside the .onnx file)")
        }
        if proto.hasSegment {
            throw ONNXError(.unsupported, file: file, reason: "\(what) is a segment of a larger tensor; segmented tensors are not supported")
        }
        let code = proto.dataType
        guard let protoType = ProtoType(rawValue: Int(code)), let ours = dataType(forCode: code) else {
            throw ONNXError(.unsupported, file: file, reason: "\(what) has element type \(typeName(code)); supported: FLOAT, DOUBLE, FLOAT16, INT64, INT32, INT8, UINT8, BOOL")
        }
        let (shape, count) = try checkedShape(proto.dims, what: what, file: file)

        func mismatch(_ found: Int, _ field: String) -> ONNXError {
            ONNXError(.invalid, file: file, reason: "\(what): \(field) holds \(found) elements but dims \(proto.dims) need \(count)")
        }

        if proto.hasRawData {
            let raw = proto.rawData
            let size: Int
            switch protoType {
            case .double, .int64: size = 8
            case .float, .int32: size = 4
            case .float16: size = 2
            default: size = 1
            }
            guard raw.count % size == 0, raw.count / size == count else {
                throw ONNXError(.invalid, file: file, reason: "\(what): raw_data has \(raw.count) bytes but dims \(proto.dims) of \(typeName(code)) need \(count * size)")
            }
            let bytes = [UInt8](raw)
            switch protoType {
            case .float: return Tensor(shape: shape, floats: decode(bytes, count, UInt32.self).map { Float(bitPattern: $0) })
            case .double: return Tensor(shape: shape, floats: decode(bytes, count, UInt64.self).map { Float(Double(bitPattern: $0)) })
            case .float16: return Tensor(shape: shape, floats: decode(bytes, count, UInt16.self).map(halfToFloat))
            case .int64: return Tensor(shape: shape, integers: decode(bytes, count, UInt64.self).map { Int64(bitPattern: $0) }, dataType: .int64)
            case .int32: return Tensor(shape: shape, integers: decode(bytes, count, UInt32.self).map { Int64(Int32(bitPattern: $0)) }, dataType: .int32)
            case .int8: return Tensor(shape: shape, integers: bytes.map { Int64(Int8(bitPattern: $0)) }, dataType: .int8)
            case .uint8: return Tensor(shape: shape, integers: bytes.map { Int64($0) }, dataType: .uint8)
            default: return Tensor(shape: shape, bools: bytes.map { $0 != 0 })
            }
        }

        switch protoType {
        case .float:
            guard proto.floatData.count == count else { throw mismatch(proto.floatData.count, "float_data") }
            return Tensor(shape: shape, floats: proto.floatData)
        case .double:
            guard proto.doubleData.count == count else { throw mismatch(proto.doubleData.count, "double_data") }
            return Tensor(shape: shape, floats: proto.doubleData.map { Float($0) })
        case .int64:
            guard proto.int64Data.count == count else { throw mismatch(proto.int64Data.count, "int64_data") }
            return Tensor(shape: shape, integers: proto.int64Data, dataType: .int64)
        case .float16:
            guard proto.int32Data.count == count else { throw mismatch(proto.int32Data.count, "int32_data") }
            return Tensor(shape: shape, floats: proto.int32Data.map { halfToFloat(UInt16(truncatingIfNeeded: $0)) })
        case .bool:
            guard proto.int32Data.count == count else { throw mismatch(proto.int32Data.count, "int32_data") }
            return Tensor(shape: shape, bools: proto.int32Data.map { $0 != 0 })
        default:  // int32, int8, uint8 live in int32_data
            guard proto.int32Data.count == count else { throw mismatch(proto.int32Data.count, "int32_data") }
            let values: [Int64]
            switch ours {
            case .int8: values = proto.int32Data.map { Int64(Int8(truncatingIfNeeded: $0)) }
            case .uint8: values = proto.int32Data.map { Int64(UInt8(truncatingIfNeeded: $0)) }
            default: values = proto.int32Data.map { Int64($0) }
            }
            return Tensor(shape: shape, integers: values, dataType: ours)
        }
    }

    /// Little-endian fixed-width words; `bytes.count` is exactly `count * size` (checked by the caller).
    private static func decode<T: FixedWidthInteger & UnsignedInteger>(_ bytes: [UInt8], _ count: Int, _: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { src in
                for i in 0..<count {
                    buffer[i] = T(littleEndian: src.loadUnaligned(fromByteOffset: i * size, as: T.self))
                }
            }
            initialized = count
        }
    }

    /// IEEE half-precision bits to Float (exact: every half is a float).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let value = Float(mantissa) * 0x1p-24
            return sign != 0 ? -value : value
        } else if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }

    /// Converts a Tensor to a TensorProto with little-endian raw_data.
    static func proto(from tensor: Tensor, name: String) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map { Int64($0) }
        proto.dataType = code(for: tensor.dataType)
        var bytes: [UInt8] = []
        switch tensor.storage {
        case .float(let v):
            bytes.reserveCapacity(v.count * 4)
            for x in v { appendLE(&bytes, x.bitPattern) }
        case .integer(let v):
            switch tensor.dataType {
            case .int32:
                bytes.reserveCapacity(v.count * 4)
                for x in v { appendLE(&bytes, UInt32(bitPattern: Int32(truncatingIfNeeded: x))) }
            case .int8, .uint8:
                bytes = v.map { UInt8(truncatingIfNeeded: $0) }
            default:
                bytes.reserveCapacity(v.count * 8)
                for x in v { appendLE(&bytes, UInt64(bitPattern: x)) }
            }
        case .bool(let v):
            bytes = v.map { $0 ? 1 : 0 }
        }
        proto.rawData = Data(bytes)
        return proto
    }

    private static func appendLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }
}
