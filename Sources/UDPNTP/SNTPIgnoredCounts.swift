import UDP

/// Why ``SNTPProbe`` did not take a datagram for its reply, or an ICMP error for the end of a request.
public enum SNTPIgnoredReason: Hashable, Sendable, CustomStringConvertible {
    /// From an address or a port other than the server's.
    case wrongSource
    /// From the server's address and port, but not a usable reply to the request in flight.
    case rejected(SNTPRequest.Rejection)
    /// An ICMP error about a datagram to another address or port than the server's.
    case icmpWrongDestination
    /// An ICMP error that quotes less than the request's first 48 bytes, so not its transmit timestamp: it
    /// cannot say which request failed.
    case icmpShortQuote
    /// An ICMP error that quotes another transmit timestamp than the request in flight's: an earlier request's,
    /// or a forgery.
    case icmpWrongRequest

    /// Every reason, in the order ``SNTPIgnoredCounts/byReason`` lists them.
    public static let allCases: [SNTPIgnoredReason] =
        [.wrongSource] + SNTPRequest.Rejection.allCases.map(Self.rejected)
        + [.icmpWrongDestination, .icmpShortQuote, .icmpWrongRequest]

    /// In words: `wrong origin timestamp`, `icmp short quote`.
    public var description: String {
        switch self {
        case .wrongSource: "not from the server"
        case .rejected(let rejection): rejection.rawValue
        case .icmpWrongDestination: "icmp wrong destination"
        case .icmpShortQuote: "icmp short quote"
        case .icmpWrongRequest: "icmp wrong request"
        }
    }
}

/// How many datagrams (and ICMP errors) ``SNTPProbe`` ignored, by reason: one count per
/// ``SNTPIgnoredReason``, so the table never holds more entries than there are reasons, whatever a peer sends
/// (no key comes from the network: a kiss code or a reference id is never one).
public struct SNTPIgnoredCounts: Sendable, Hashable {
    private var counts: [SNTPIgnoredReason: Int] = [:]

    /// Nothing ignored yet.
    public init() {}

    /// Datagrams ignored for `reason`.
    public subscript(reason: SNTPIgnoredReason) -> Int { counts[reason] ?? 0 }

    /// Datagrams ignored in all.
    public var total: Int { counts.values.reduce(0, +) }

    /// The reasons seen, in ``SNTPIgnoredReason/allCases`` order, with their counts.
    public var byReason: [(reason: SNTPIgnoredReason, count: Int)] {
        SNTPIgnoredReason.allCases.compactMap { reason in counts[reason].map { (reason, $0) } }
    }

    /// Counts one datagram ignored for `reason`.
    public mutating func record(_ reason: SNTPIgnoredReason) { counts[reason, default: 0] += 1 }
}

extension SNTPRequest {
    /// Checks an ICMP error that the kernel queued for the request's socket: it ends the request (nil) only
    /// when it is about a datagram to `server` and its quote holds the request's transmit timestamp (bytes 40
    /// to 47), the 64-bit nonce that a forger who cannot see the request cannot guess. Linux quotes up to 548
    /// bytes over IPv4, so a real error from a host or router quotes all 48.
    ///
    /// An error the local stack raised (`DeliveryError.Origin.local`) quotes nothing and cannot be forged: it
    /// counts.
    ///
    /// - Returns: nil when the error is about this request, else why it is ignored.
    public func check(_ error: DeliveryError, server: SocketAddress) -> SNTPIgnoredReason? {
        if error.origin == .local { return nil }
        guard error.destination.isSameEndpoint(as: server) else { return .icmpWrongDestination }
        let quote = error.quotedPayload
        guard quote.count >= NTPPacket.size else { return .icmpShortQuote }
        let nonce = quote[quote.startIndex + 40..<quote.startIndex + 48].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard nonce == packet.transmitTimestamp.rawValue else { return .icmpWrongRequest }
        return nil
    }
}
