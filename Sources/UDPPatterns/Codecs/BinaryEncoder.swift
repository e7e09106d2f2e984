/// The `Encoder` behind ``BinaryCodec``: writes each value into a ``BinaryEncodingNode`` in the order the
/// value's `encode(to:)` asks, positionally, without keys. Every container funnels into
/// ``BinaryValueEncoder/encode(_:key:)``, so the format is decided in one place.
struct BinaryValueEncoder: Encoder {
    let node: BinaryEncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(BinaryKeyedEncodingContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        BinaryUnkeyedEncodingContainer(encoder: BinaryValueEncoder(node: node.appendList(), codingPath: codingPath))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        BinarySingleValueEncodingContainer(encoder: self)
    }

    /// An absent optional: the presence byte 0.
    func encodeNil() {
        node.bytes.append(0)
    }

    /// Writes one value: primitives as the format says, optionals and dictionaries specially, anything else
    /// by its own `encode(to:)`, one level deeper.
    func encode<T: Encodable>(_ value: T, key: (any CodingKey)? = nil) throws {
        // Optionals first: a dynamic cast such as `as Int` would unwrap an `Int?` and lose its presence byte.
        if let optional = value as? any BinaryEncodableOptional {
            guard let wrapped = optional.binaryWrapped else { return encodeNil() }
            node.bytes.append(1)
            return try encode(wrapped, key: key)
        }
        switch value {
        case let value as Bool: node.bytes.append(value ? 1 : 0)
        case let value as String: node.appendBytes(Array(value.utf8))
        case let value as Double: node.appendBigEndian(value.bitPattern)
        case let value as Float: node.appendBigEndian(value.bitPattern)
        case let value as Int8: node.bytes.append(UInt8(bitPattern: value))
        case let value as UInt8: node.bytes.append(value)
        case let value as Int: node.appendVarint(zigzag(Int64(value)))
        case let value as Int16: node.appendVarint(zigzag(Int64(value)))
        case let value as Int32: node.appendVarint(zigzag(Int64(value)))
        case let value as Int64: node.appendVarint(zigzag(value))
        case let value as UInt: node.appendVarint(UInt64(value))
        case let value as UInt16: node.appendVarint(UInt64(value))
        case let value as UInt32: node.appendVarint(UInt64(value))
        case let value as UInt64: node.appendVarint(value)
        case let value as Int128: node.appendBigEndian(UInt128(bitPattern: value))
        case let value as UInt128: node.appendBigEndian(value)
        case let dictionary as any BinaryEncodableDictionary:
            try dictionary.encodeEntries(to: nested(key))
        default:
            try value.encode(to: nested(key))
        }
    }

    /// An encoder for a value one level down, refusing to go deeper than ``BinaryCodec/maximumDepth``.
    private func nested(_ key: (any CodingKey)?) throws -> BinaryValueEncoder {
        guard codingPath.count < BinaryCodec.maximumDepth else {
            throw BinaryCodecError.tooDeep(limit: BinaryCodec.maximumDepth)
        }
        return BinaryValueEncoder(node: node, codingPath: codingPath + [key ?? BinaryIndexKey(codingPath.count)])
    }
}

/// Fields of a struct or class, one after another in the order they are encoded; keys are not written.
struct BinaryKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BinaryValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws { encoder.encodeNil() }

    mutating func encode(_ value: Bool, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try encoder.encode(value, key: key) }

    // The standard library's defaults skip an absent optional entirely; positionally, it needs its presence byte.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encoder.encode(value, key: key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        try encoder.encode(value, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(
            BinaryKeyedEncodingContainer<NestedKey>(
                encoder: BinaryValueEncoder(node: encoder.node, codingPath: codingPath + [key])
            )
        )
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        BinaryValueEncoder(node: encoder.node, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { encoder }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        BinaryValueEncoder(node: encoder.node, codingPath: codingPath + [key])
    }
}

/// Elements of an array or set: a count (written when the message is assembled), then the elements.
struct BinaryUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: BinaryValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.node.elementCount }

    private var nextKey: BinaryIndexKey { BinaryIndexKey(count) }

    init(encoder: BinaryValueEncoder) {
        self.encoder = encoder
    }

    mutating func encodeNil() throws {
        encoder.encodeNil()
        encoder.node.elementCount += 1
    }

    mutating func encode(_ value: Bool) throws { try append(value) }
    mutating func encode(_ value: String) throws { try append(value) }
    mutating func encode(_ value: Double) throws { try append(value) }
    mutating func encode(_ value: Float) throws { try append(value) }
    mutating func encode(_ value: Int) throws { try append(value) }
    mutating func encode(_ value: Int8) throws { try append(value) }
    mutating func encode(_ value: Int16) throws { try append(value) }
    mutating func encode(_ value: Int32) throws { try append(value) }
    mutating func encode(_ value: Int64) throws { try append(value) }
    mutating func encode(_ value: UInt) throws { try append(value) }
    mutating func encode(_ value: UInt8) throws { try append(value) }
    mutating func encode(_ value: UInt16) throws { try append(value) }
    mutating func encode(_ value: UInt32) throws { try append(value) }
    mutating func encode(_ value: UInt64) throws { try append(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try append(value) }

    private mutating func append<T: Encodable>(_ value: T) throws {
        try encoder.encode(value, key: nextKey)
        encoder.node.elementCount += 1
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let key = nextKey
        encoder.node.elementCount += 1
        return KeyedEncodingContainer(
            BinaryKeyedEncodingContainer<NestedKey>(
                encoder: BinaryValueEncoder(node: encoder.node, codingPath: codingPath + [key])
            )
        )
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = nextKey
        encoder.node.elementCount += 1
        return BinaryValueEncoder(node: encoder.node, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let key = nextKey
        encoder.node.elementCount += 1
        return BinaryValueEncoder(node: encoder.node, codingPath: codingPath + [key])
    }
}

/// One value: written as it is, with no framing.
struct BinarySingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: BinaryValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.encodeNil() }
    mutating func encode(_ value: Bool) throws { try encoder.encode(value) }
    mutating func encode(_ value: String) throws { try encoder.encode(value) }
    mutating func encode(_ value: Double) throws { try encoder.encode(value) }
    mutating func encode(_ value: Float) throws { try encoder.encode(value) }
    mutating func encode(_ value: Int) throws { try encoder.encode(value) }
    mutating func encode(_ value: Int8) throws { try encoder.encode(value) }
    mutating func encode(_ value: Int16) throws { try encoder.encode(value) }
    mutating func encode(_ value: Int32) throws { try encoder.encode(value) }
    mutating func encode(_ value: Int64) throws { try encoder.encode(value) }
    mutating func encode(_ value: UInt) throws { try encoder.encode(value) }
    mutating func encode(_ value: UInt8) throws { try encoder.encode(value) }
    mutating func encode(_ value: UInt16) throws { try encoder.encode(value) }
    mutating func encode(_ value: UInt32) throws { try encoder.encode(value) }
    mutating func encode(_ value: UInt64) throws { try encoder.encode(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encoder.encode(value) }
}
