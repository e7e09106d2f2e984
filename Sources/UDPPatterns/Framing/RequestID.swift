/// The 64-bit identifier a client puts in each request's frame header, and a server copies into its reply,
/// so replies can be matched to requests over one socket whatever order they arrive in.
///
/// 64 bits because the identifier is also what keeps a stray or forged reply from completing the wrong
/// request: DNS's 16-bit query id proved far too easy to guess. ``RequestReplyClient`` starts its ids at a
/// random value and counts up from there, so ids never repeat while a request is outstanding.
public struct RequestID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The identifier as it travels on the wire.
    public var rawValue: UInt64

    /// Wraps an identifier read from the wire.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps an identifier read from the wire.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Sixteen hex digits, the width of the field, so ids line up in logs: `00000000deadbeef`.
    public var description: String {
        let digits = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
