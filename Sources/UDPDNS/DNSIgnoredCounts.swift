/// Why a datagram that came to a query's socket was not taken for its reply (RFC 5452 §9.1: a reply must come
/// from the server asked, carry the query's id and repeat its question; anything else may be a forgery), or why
/// an ICMP error was not taken to end a try (it must be about a datagram to the server and quote the query's
/// id, which a forger who cannot see the query cannot do).
public enum DNSIgnoredReason: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// From an address or a port other than the server's.
    case wrongSource = "wrong_source"
    /// Not a well-formed DNS message (RFC 1035), or one with a malformed OPT record (RFC 6891 §6.1.1).
    case malformed
    /// A query rather than a response (QR clear), or a response to another opcode.
    case notAResponse = "not_a_response"
    /// Another id than the query's.
    case wrongID = "wrong_id"
    /// Another question than the query's (name, type or class).
    case wrongQuestion = "wrong_question"
    /// An ICMP error about a datagram to another address or port than the server's.
    case icmpWrongDestination = "icmp_wrong_destination"
    /// An ICMP error that quotes fewer than the 2 bytes of the query's id, so it cannot say which query failed.
    case icmpShortQuote = "icmp_short_quote"
    /// An ICMP error that quotes another id than the query's.
    case icmpWrongID = "icmp_wrong_id"

    /// In words: `wrong id`.
    public var description: String { rawValue.split(separator: "_").joined(separator: " ") }
}

/// How many datagrams (and ICMP errors) were ignored, by reason: one count per ``DNSIgnoredReason``, so the
/// table has at most as many entries as there are reasons, whatever a peer sends.
public struct DNSIgnoredCounts: Sendable, Hashable, CustomStringConvertible {
    private var counts: [DNSIgnoredReason: Int] = [:]

    /// No datagram ignored yet.
    public init() {}

    /// Datagrams ignored for `reason`.
    public subscript(reason: DNSIgnoredReason) -> Int { counts[reason] ?? 0 }

    /// Datagrams ignored in all.
    public var total: Int { counts.values.reduce(0, +) }

    /// The reasons seen, in ``DNSIgnoredReason``'s order, with their counts.
    public var byReason: [(reason: DNSIgnoredReason, count: Int)] {
        DNSIgnoredReason.allCases.compactMap { reason in counts[reason].map { (reason, $0) } }
    }

    /// Counts one datagram ignored for `reason`.
    public mutating func record(_ reason: DNSIgnoredReason) { counts[reason, default: 0] += 1 }

    /// Adds `part`'s counts: how the probe sums up its queries.
    public static func += (total: inout DNSIgnoredCounts, part: DNSIgnoredCounts) {
        total.counts.merge(part.counts, uniquingKeysWith: +)
    }

    /// `ignored 2 replies: wrong id`, or with several reasons `ignored 3 replies: 2 wrong id, 1 wrong source`;
    /// empty when nothing was ignored.
    public var description: String {
        let total = total
        guard total > 0 else { return "" }
        let reasons = byReason
        let noun = total == 1 ? "reply" : "replies"
        if reasons.count == 1 { return "ignored \(total) \(noun): \(reasons[0].reason)" }
        return "ignored \(total) \(noun): " + reasons.map { "\($0.count) \($0.reason)" }.joined(separator: ", ")
    }
}
