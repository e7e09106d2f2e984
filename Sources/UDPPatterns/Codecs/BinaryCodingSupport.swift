// Types the binary format treats specially, recognised by dynamic casts to these protocols, since
// `Encodable`/`Decodable` alone cannot tell an optional or a dictionary apart from any other value.

/// An optional whose value can be encoded: written as a presence byte, then the value if present.
/// (Optional's own `encode(to:)` writes a present value bare, which a positional format cannot tell from
/// an absent one.)
protocol BinaryEncodableOptional {
    var binaryWrapped: (any Encodable)? { get }
}

extension Optional: BinaryEncodableOptional where Wrapped: Encodable {
    var binaryWrapped: (any Encodable)? { self }
}

/// An optional whose value can be decoded: read as a presence byte, then the value if present.
protocol BinaryDecodableOptional {
    static func decodeBinary(from decoder: BinaryValueDecoder, key: (any CodingKey)?) throws -> Self
}

extension Optional: BinaryDecodableOptional where Wrapped: Decodable {
    static func decodeBinary(from decoder: BinaryValueDecoder, key: (any CodingKey)?) throws -> Self {
        guard try decoder.decodePresence() else { return nil }
        return try decoder.decode(Wrapped.self, key: key)
    }
}

/// A dictionary, written as a list of alternating keys and values whatever its key type. (The standard
/// library writes `String`- and `Int`-keyed dictionaries as keyed containers, whose keys a positional
/// format would drop.)
protocol BinaryEncodableDictionary {
    func encodeEntries(to encoder: BinaryValueEncoder) throws
}

extension Dictionary: BinaryEncodableDictionary where Key: Encodable, Value: Encodable {
    func encodeEntries(to encoder: BinaryValueEncoder) throws {
        var list = encoder.unkeyedContainer()
        for (key, value) in self {
            try list.encode(key)
            try list.encode(value)
        }
    }
}

/// A dictionary read back from alternating keys and values; a repeated key keeps its last value.
protocol BinaryDecodableDictionary {
    static func decodeEntries(from decoder: BinaryValueDecoder) throws -> Self
}

extension Dictionary: BinaryDecodableDictionary where Key: Decodable, Value: Decodable {
    static func decodeEntries(from decoder: BinaryValueDecoder) throws -> Self {
        var list = try decoder.unkeyedContainer()
        var dictionary: [Key: Value] = [:]
        dictionary.reserveCapacity((list.count ?? 0) / 2)
        while !list.isAtEnd {
            let key = try list.decode(Key.self)
            dictionary[key] = try list.decode(Value.self)
        }
        return dictionary
    }
}

/// The coding-path key of a list element, or of a value below the top level.
struct BinaryIndexKey: CodingKey {
    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }
    let index: Int

    init(_ index: Int) {
        self.index = index
    }

    init?(stringValue: String) { nil }

    init?(intValue: Int) {
        self.index = intValue
    }
}
