/// A compact, positional binary encoding of `Codable` values for datagrams: no field names, no
/// separators, small integers in one byte. A struct of a few small numbers and a short string takes a
/// dozen bytes where JSON takes sixty.
///
/// | Swift value | bytes |
/// |---|---|
/// | `Bool` | 1 byte: 0 or 1 |
/// | `UInt8`, `Int8` | 1 byte as it is (two's complement) |
/// | `UInt16`, `UInt32`, `UInt64`, `UInt` | varint: LEB128, 7 bits per byte, least significant group first, the high bit set when more follow; shortest form only, at most 10 bytes |
/// | `Int16`, `Int32`, `Int64`, `Int` | zigzag (0, −1, 1, −2 … as 0, 1, 2, 3 …), then varint |
/// | `UInt128`, `Int128` | 16 bytes big-endian |
/// | `Float`, `Double` | 4 or 8 bytes: the IEEE 754 bit pattern, big-endian |
/// | `String` | varint byte count, then UTF-8 |
/// | `Optional` | a presence byte, 0 or 1, then the value if 1 |
/// | arrays, sets, `[UInt8]`, `Data` (unkeyed containers) | varint element count, then the elements |
/// | dictionaries | varint count of 2 × entries, then key, value, key, value … |
/// | structs, classes (keyed containers) | the fields one after another in encoding order, which for synthesized `Codable` is declaration order; no keys, no count |
/// | enums with raw values | the raw value |
///
/// Integers are widened to 64 bits on the wire, so a field may change between `Int16`, `Int32` and `Int64`
/// (or among the unsigned widths) without breaking old messages, as long as the values fit; decoding
/// checks they do.
///
/// Being positional, both ends must share the type definitions: adding, removing or reordering a field
/// changes the format. Carry a version field, or use ``JSONCodec`` for messages that evolve. Enums with
/// associated values are not supported (their synthesized `Codable` relies on keys); decoding one throws.
///
/// Decoding never trusts the input: every length and count is checked against the bytes left before
/// anything is allocated, strings must be valid UTF-8, values must fill the input exactly, and nesting is
/// limited to ``maximumDepth``; anything else throws ``BinaryCodecError``.
public struct BinaryCodec: DatagramCodec {
    /// How deeply values may nest (a struct in an array in a struct is 3): deep enough for any message,
    /// shallow enough that a recursive type fed hostile bytes cannot exhaust the stack.
    public static let maximumDepth = 64

    /// The largest datagram ``encode(_:)`` produces, frame header included.
    public var budget: DatagramBudget

    /// Creates a codec.
    ///
    /// - Parameter budget: The largest datagram, frame header included; ``DatagramBudget/internet`` (1200
    ///   bytes) by default.
    public init(budget: DatagramBudget = .internet) {
        self.budget = budget
    }

    /// Encodes `value`.
    ///
    /// - Throws: ``DatagramBudget/Exceeded`` naming both sizes when the framed payload would exceed the
    ///   budget; ``BinaryCodecError/tooDeep(limit:)`` or ``BinaryCodecError/zeroSizedElements(count:)``;
    ///   or what `value`'s `encode(to:)` throws.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let root = BinaryEncodingNode(isList: false)
        try BinaryValueEncoder(node: root, codingPath: []).encode(value)
        let payload = try root.assemble()
        try budget.check(payloadSize: payload.count)
        return payload
    }

    /// Decodes one `type` value from exactly the bytes of `payload`.
    ///
    /// - Throws: ``BinaryCodecError`` for truncated, malformed or left-over bytes; a `DecodingError` from
    ///   `type`'s own checks.
    public func decode<T: Decodable>(_ type: T.Type, from payload: some Collection<UInt8>) throws -> T {
        let reader = BinaryReader(Array(payload))
        let value = try BinaryValueDecoder(reader: reader, codingPath: []).decode(type)
        guard reader.remaining == 0 else { throw BinaryCodecError.trailingBytes(reader.remaining) }
        return value
    }
}
