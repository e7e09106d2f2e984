/// The cursor ``BinaryValueDecoder`` reads through. Every read checks the bytes left first and throws
/// ``BinaryCodecError`` on a short, malformed or out-of-range value; nothing reads out of bounds.
final class BinaryReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    private func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count <= remaining else { throw BinaryCodecError.unexpectedEnd(needed: count, remaining: remaining) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    func readByte() throws -> UInt8 {
        guard remaining >= 1 else { throw BinaryCodecError.unexpectedEnd(needed: 1, remaining: 0) }
        defer { offset += 1 }
        return bytes[offset]
    }

    func readBool() throws -> Bool {
        let byte = try readByte()
        guard byte <= 1 else { throw BinaryCodecError.invalidBool(byte) }
        return byte == 1
    }

    func readBigEndian<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws -> T {
        try take(MemoryLayout<T>.size).reduce(0) { value, byte in value << 8 | T(byte) }
    }

    /// A LEB128 varint of at most 64 bits, in its shortest form only, so each value has one encoding.
    func readVarint() throws -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<10 {
            let byte = try readByte()
            // The tenth byte holds bit 63 alone.
            if index == 9 && byte > 1 { throw BinaryCodecError.varintOverflow }
            value |= UInt64(byte & 0x7F) << (7 * index)
            if byte & 0x80 == 0 {
                if index > 0 && byte == 0 { throw BinaryCodecError.nonCanonicalVarint }
                return value
            }
        }
        throw BinaryCodecError.varintOverflow
    }

    func readUnsigned<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws -> T {
        let value = try readVarint()
        guard let exact = T(exactly: value) else { throw BinaryCodecError.outOfRange(String(describing: T.self)) }
        return exact
    }

    /// A zigzag varint: 0, −1, 1, −2 … travel as 0, 1, 2, 3 …, so small negative numbers stay short.
    func readSigned<T: FixedWidthInteger & SignedInteger>(_ type: T.Type) throws -> T {
        let encoded = try readVarint()
        let value = Int64(bitPattern: encoded >> 1) ^ -Int64(bitPattern: encoded & 1)
        guard let exact = T(exactly: value) else { throw BinaryCodecError.outOfRange(String(describing: T.self)) }
        return exact
    }

    /// A length or element count, which can never exceed the bytes left: that refuses a forged count of
    /// billions before anything is allocated or looped over.
    func readCount() throws -> Int {
        let declared = try readVarint()
        guard declared <= UInt64(remaining) else {
            throw BinaryCodecError.countTooLarge(declared: declared, remaining: remaining)
        }
        return Int(declared)
    }

    func readString() throws -> String {
        let utf8 = try take(readCount())
        guard let string = String(validating: utf8, as: UTF8.self) else { throw BinaryCodecError.invalidUTF8 }
        return string
    }

    /// Consumes the next byte if it is 0 (an absent optional written by `encodeNil`).
    func consumeNilMarker() -> Bool {
        guard remaining >= 1, bytes[offset] == 0 else { return false }
        offset += 1
        return true
    }
}

/// Zigzag encoding (as in Protocol Buffers): 0, −1, 1, −2 … become 0, 1, 2, 3 ….
func zigzag(_ value: Int64) -> UInt64 {
    UInt64(bitPattern: (value << 1) ^ (value >> 63))
}
