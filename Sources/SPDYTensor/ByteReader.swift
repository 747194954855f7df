import Foundation

/// Bounds-checked little-endian reads from untrusted bytes; never traps.
struct ByteReader {
    let bytes: [UInt8]
    let source: String

    init(_ bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    func fail(_ reason: String) -> TensorIOError { TensorIOError(file: source, reason: reason) }

    func slice(_ offset: Int, _ length: Int) throws -> ArraySlice<UInt8> {
        guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
            throw fail("truncated: needs bytes \(offset)..<\(offset &+ length) of \(bytes.count)")
        }
        return bytes[offset..<(offset + length)]
    }

    func uint16(at offset: Int) throws -> Int {
        let s = try slice(offset, 2)
        return Int(s[s.startIndex]) | Int(s[s.startIndex + 1]) << 8
    }

    func uint32(at offset: Int) throws -> Int {
        let s = try slice(offset, 4)
        var v = 0
        for i in 0..<4 { v |= Int(s[s.startIndex + i]) << (8 * i) }
        return v
    }

    func uint64(at offset: Int) throws -> UInt64 {
        let s = try slice(offset, 8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(s[s.startIndex + i]) << (8 * UInt64(i)) }
        return v
    }
}

/// Decodes little-endian element bytes into typed arrays.
enum ElementDecoder {
    static func floats(_ raw: ArraySlice<UInt8>, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            raw.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<(count * 4)])) }
        }
        return out
    }

    static func halfs(_ raw: ArraySlice<UInt8>, count: Int) -> [Float] {
        raw.withUnsafeBytes { src in
            (0..<count).map { i in Float(halfBits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        }
    }

    static func bfloat16s(_ raw: ArraySlice<UInt8>, count: Int) -> [Float] {
        raw.withUnsafeBytes { src in
            (0..<count).map { i in Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        }
    }

    static func doubles(_ raw: ArraySlice<UInt8>, count: Int) -> [Float] {
        raw.withUnsafeBytes { src in
            (0..<count).map { i in Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        }
    }

    static func integers<T: FixedWidthInteger>(_ raw: ArraySlice<UInt8>, count: Int, as: T.Type) -> [Int64] {
        raw.withUnsafeBytes { src in
            (0..<count).map { i in Int64(src.loadUnaligned(fromByteOffset: MemoryLayout<T>.size * i, as: T.self)) }
        }
    }

    static func bools(_ raw: ArraySlice<UInt8>, count: Int) -> [Bool] {
        raw.prefix(count).map { $0 != 0 }
    }
}

extension Float {
    /// Converts IEEE half-precision bits (portable; no Float16 on every platform).
    init(halfBits h: UInt16) {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let value = Float(mantissa) * 0x1p-24
            self = sign != 0 ? -value : value
        } else if exponent == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
        }
    }
}
