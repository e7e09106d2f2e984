/// The `Decoder` behind ``BinaryCodec``: reads values from a ``BinaryReader`` in the order the type's
/// `init(from:)` asks for them, which for synthesized `Codable` is the order they were encoded in. Every
/// container funnels into ``BinaryValueDecoder/decode(_:key:)``; every read is bounds-checked.
struct BinaryValueDecoder: Decoder {
    let reader: BinaryReader
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(BinaryKeyedDecodingContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try BinaryUnkeyedDecodingContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BinarySingleValueDecodingContainer(decoder: self)
    }

    /// Reads one value: primitives as the format says, optionals and dictionaries specially, anything else
    /// by its own `init(from:)`, one level deeper.
    func decode<T: Decodable>(_ type: T.Type, key: (any CodingKey)? = nil) throws -> T {
        // Each branch has just checked that T is the type it builds, so the casts cannot fail.
        if let optional = T.self as? any BinaryDecodableOptional.Type {
            return try optional.decodeBinary(from: self, key: key) as! T
        }
        switch T.self {
        case is Bool.Type: return try reader.readBool() as! T
        case is String.Type: return try reader.readString() as! T
        case is Double.Type: return Double(bitPattern: try reader.readBigEndian(UInt64.self)) as! T
        case is Float.Type: return Float(bitPattern: try reader.readBigEndian(UInt32.self)) as! T
        case is Int8.Type: return Int8(bitPattern: try reader.readByte()) as! T
        case is UInt8.Type: return try reader.readByte() as! T
        case is Int.Type: return try reader.readSigned(Int.self) as! T
        case is Int16.Type: return try reader.readSigned(Int16.self) as! T
        case is Int32.Type: return try reader.readSigned(Int32.self) as! T
        case is Int64.Type: return try reader.readSigned(Int64.self) as! T
        case is UInt.Type: return try reader.readUnsigned(UInt.self) as! T
        case is UInt16.Type: return try reader.readUnsigned(UInt16.self) as! T
        case is UInt32.Type: return try reader.readUnsigned(UInt32.self) as! T
        case is UInt64.Type: return try reader.readUnsigned(UInt64.self) as! T
        case is Int128.Type: return Int128(bitPattern: try reader.readBigEndian(UInt128.self)) as! T
        case is UInt128.Type: return try reader.readBigEndian(UInt128.self) as! T
        default: break
        }
        if let dictionary = T.self as? any BinaryDecodableDictionary.Type {
            return try dictionary.decodeEntries(from: nested(key)) as! T
        }
        return try T(from: nested(key))
    }

    /// The presence byte of an optional: 0 absent, 1 present.
    func decodePresence() throws -> Bool {
        let byte = try reader.readByte()
        guard byte <= 1 else { throw BinaryCodecError.invalidPresence(byte) }
        return byte == 1
    }

    /// A decoder for a value one level down, refusing to go deeper than ``BinaryCodec/maximumDepth`` (a
    /// recursive type fed hostile input could otherwise exhaust the stack).
    func nested(_ key: (any CodingKey)?) throws -> BinaryValueDecoder {
        guard codingPath.count < BinaryCodec.maximumDepth else {
            throw BinaryCodecError.tooDeep(limit: BinaryCodec.maximumDepth)
        }
        return BinaryValueDecoder(reader: reader, codingPath: codingPath + [key ?? BinaryIndexKey(codingPath.count)])
    }
}

/// Fields read one after another; the key only names the field in errors' coding paths.
struct BinaryKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BinaryValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    /// Keys are not on the wire, so none can be listed; types that need them (dictionaries keyed by strings
    /// are handled separately; enums with associated values are not) fail to decode.
    var allKeys: [Key] { [] }

    /// Positionally, every field is there.
    func contains(_ key: Key) -> Bool { true }

    /// Reads an optional's presence byte.
    func decodeNil(forKey key: Key) throws -> Bool { try !decoder.decodePresence() }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.decode(type, key: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder.decode(type, key: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder.decode(type, key: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder.decode(type, key: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder.decode(type, key: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder.decode(type, key: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder.decode(type, key: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder.decode(type, key: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder.decode(type, key: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder.decode(type, key: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder.decode(type, key: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder.decode(type, key: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder.decode(type, key: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder.decode(type, key: key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder.decode(type, key: key) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try decoder.decode(Bool?.self, key: key)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try decoder.decode(String?.self, key: key)
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try decoder.decode(Double?.self, key: key)
    }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try decoder.decode(Float?.self, key: key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try decoder.decode(Int?.self, key: key)
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try decoder.decode(Int8?.self, key: key)
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try decoder.decode(Int16?.self, key: key)
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try decoder.decode(Int32?.self, key: key)
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try decoder.decode(Int64?.self, key: key)
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try decoder.decode(UInt?.self, key: key)
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try decoder.decode(UInt8?.self, key: key)
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try decoder.decode(UInt16?.self, key: key)
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try decoder.decode(UInt32?.self, key: key)
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try decoder.decode(UInt64?.self, key: key)
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try decoder.decode(T?.self, key: key)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.nested(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.nested(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }

    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder.nested(key) }
}

/// Elements: the count first, then that many values.
struct BinaryUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BinaryValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    let elementCount: Int
    var count: Int? { elementCount }
    private(set) var currentIndex = 0
    var isAtEnd: Bool { currentIndex >= elementCount }

    init(decoder: BinaryValueDecoder) throws {
        self.decoder = decoder
        self.elementCount = try decoder.reader.readCount()
    }

    /// Moves past one element, or throws at the end of the list.
    private mutating func next() throws -> BinaryValueDecoder {
        guard currentIndex < elementCount else { throw BinaryCodecError.pastEndOfArray(count: elementCount) }
        currentIndex += 1
        return decoder
    }

    private var key: BinaryIndexKey { BinaryIndexKey(currentIndex) }

    private mutating func element<T: Decodable>(_ type: T.Type) throws -> T {
        let key = self.key
        return try next().decode(type, key: key)
    }

    mutating func decodeNil() throws -> Bool {
        let isNil = try !decoder.decodePresence()
        // Only an absent value is consumed whole; a present one goes on to be decoded by the caller.
        if isNil { _ = try next() }
        return isNil
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try element(type) }
    mutating func decode(_ type: String.Type) throws -> String { try element(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try element(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try element(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try element(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try element(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try element(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try element(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try element(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try element(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try element(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try element(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try element(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try element(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try element(type) }

    mutating func decodeIfPresent(_ type: Bool.Type) throws -> Bool? { try element(Bool?.self) }
    mutating func decodeIfPresent(_ type: String.Type) throws -> String? { try element(String?.self) }
    mutating func decodeIfPresent(_ type: Double.Type) throws -> Double? { try element(Double?.self) }
    mutating func decodeIfPresent(_ type: Float.Type) throws -> Float? { try element(Float?.self) }
    mutating func decodeIfPresent(_ type: Int.Type) throws -> Int? { try element(Int?.self) }
    mutating func decodeIfPresent(_ type: Int8.Type) throws -> Int8? { try element(Int8?.self) }
    mutating func decodeIfPresent(_ type: Int16.Type) throws -> Int16? { try element(Int16?.self) }
    mutating func decodeIfPresent(_ type: Int32.Type) throws -> Int32? { try element(Int32?.self) }
    mutating func decodeIfPresent(_ type: Int64.Type) throws -> Int64? { try element(Int64?.self) }
    mutating func decodeIfPresent(_ type: UInt.Type) throws -> UInt? { try element(UInt?.self) }
    mutating func decodeIfPresent(_ type: UInt8.Type) throws -> UInt8? { try element(UInt8?.self) }
    mutating func decodeIfPresent(_ type: UInt16.Type) throws -> UInt16? { try element(UInt16?.self) }
    mutating func decodeIfPresent(_ type: UInt32.Type) throws -> UInt32? { try element(UInt32?.self) }
    mutating func decodeIfPresent(_ type: UInt64.Type) throws -> UInt64? { try element(UInt64?.self) }
    mutating func decodeIfPresent<T: Decodable>(_ type: T.Type) throws -> T? { try element(T?.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let key = self.key
        return try next().nested(key).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let key = self.key
        return try next().nested(key).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let key = self.key
        return try next().nested(key)
    }
}

/// One value, read as it is.
struct BinarySingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: BinaryValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    /// Whether the next byte is an absent optional's 0, which it then consumes. `BinaryCodec` handles
    /// optionals itself, so this is reached only by hand-written `init(from:)` code.
    func decodeNil() -> Bool { decoder.reader.consumeNilMarker() }

    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decode(type) }
    func decode(_ type: String.Type) throws -> String { try decoder.decode(type) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decode(type) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.decode(type) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decode(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decode(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decode(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decode(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decode(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decode(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decode(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decode(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decode(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decode(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type) }
}
