import FoundationEssentials

/// `Codable` values as compact JSON (keys sorted, so equal values give equal bytes), within a
/// ``DatagramBudget``. Larger than ``BinaryCodec``'s output but self-describing: fields can be added
/// without breaking older peers, and a datagram can be read in a packet capture.
///
/// Uses FoundationEssentials' `JSONEncoder` and `JSONDecoder`; malformed input throws their
/// `DecodingError`.
public struct JSONCodec: DatagramCodec {
    /// The largest datagram ``encode(_:)`` produces, frame header included.
    public var budget: DatagramBudget

    /// Creates a codec.
    ///
    /// - Parameter budget: The largest datagram, frame header included; ``DatagramBudget/internet`` (1200
    ///   bytes) by default.
    public init(budget: DatagramBudget = .internet) {
        self.budget = budget
    }

    /// Encodes `value` as JSON.
    ///
    /// - Throws: ``DatagramBudget/Exceeded`` naming both sizes when the framed payload would exceed the
    ///   budget; `EncodingError` for values JSON cannot hold (such as a NaN).
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        // A new encoder per call: JSONEncoder is a class with mutable settings, not shared state to lock.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = [UInt8](try encoder.encode(value))
        try budget.check(payloadSize: payload.count)
        return payload
    }

    /// Decodes one `type` value from the JSON in `payload`.
    ///
    /// - Throws: `DecodingError` for malformed JSON or a value of the wrong shape.
    public func decode<T: Decodable>(_ type: T.Type, from payload: some Collection<UInt8>) throws -> T {
        try JSONDecoder().decode(type, from: Data(payload))
    }
}
