/// Turns messages into datagram payloads and back, refusing any message whose datagram would exceed a
/// ``DatagramBudget``: an oversized message fails loudly at the sender, instead of being fragmented (and
/// lost whole when any fragment is) or dropped silently by a path with a smaller MTU.
///
/// ```swift
/// let codec = BinaryCodec()                       // budget .internet: 1200 bytes, frame header included
/// let payload = try codec.encode(reading)         // DatagramBudget.Exceeded if too large
/// let back = try codec.decode(Reading.self, from: payload)
/// ```
public protocol DatagramCodec: Sendable {
    /// The largest datagram ``encode(_:)`` may produce, with its frame overhead.
    var budget: DatagramBudget { get }

    /// Encodes `value` as a payload.
    ///
    /// - Throws: ``DatagramBudget/Exceeded`` when the framed payload would exceed ``budget``; the format's
    ///   own errors, or what `value`'s `encode(to:)` throws.
    func encode<T: Encodable>(_ value: T) throws -> [UInt8]

    /// Decodes one value of `type` from exactly the bytes of `payload`.
    ///
    /// - Throws: The format's errors for malformed input, or what `type`'s `init(from:)` throws.
    func decode<T: Decodable>(_ type: T.Type, from payload: some Collection<UInt8>) throws -> T
}
