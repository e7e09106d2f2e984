import UDP

/// A reply that passed ``DNSReplyFilter``: the message, its EDNS information and its size.
public struct DNSReply: Sendable, Hashable {
    /// The message; with ``recordsUnreadable``, its header and question only.
    public var message: DNSMessage
    /// What its OPT record says; nil without one.
    public var edns: EDNS?
    /// Bytes on the wire.
    public var size: Int
    /// The reply is truncated (TC) and cut inside a record, so only its header and question could be read
    /// (RFC 2181 §9 asks servers to cut between records; not every one does).
    public var recordsUnreadable: Bool

    /// Each parameter sets the property of the same name.
    ///
    /// - Parameters:
    ///   - message: The message, or only its header and question when `recordsUnreadable`.
    ///   - edns: What its OPT record says; nil without one.
    ///   - size: Bytes on the wire.
    ///   - recordsUnreadable: Whether the reply is truncated inside a record.
    public init(message: DNSMessage, edns: EDNS?, size: Int, recordsUnreadable: Bool = false) {
        self.message = message
        self.edns = edns
        self.size = size
        self.recordsUnreadable = recordsUnreadable
    }

    /// The whole response code, extended by the OPT record.
    public var responseCode: UInt16 { message.responseCode(extendedBy: edns) }
}

/// Decides, sans-I/O, whether a datagram is the reply to one query: RFC 5452's checks, in this order. It must
/// come from the address and port the query went to, decode as a DNS message, be a response to a standard
/// query, carry the query's id, and repeat its question (the name ignoring ASCII case, the type and the
/// class). An off-path forger must then guess the id (16 bits) and the query's source port (about 15 more)
/// at once.
///
/// One exception keeps error replies from servers that leave the question out (as some do for FORMERR or
/// NOTIMP): a reply with no question is taken when its response code is an error other than NXDOMAIN and it
/// holds no record, since such a reply asserts nothing about any name.
public struct DNSReplyFilter: Sendable {
    /// What a datagram turned out to be.
    public enum Verdict: Sendable, Hashable {
        /// The reply to the query: it passed every check.
        case reply(DNSReply)
        /// Not the reply, for this reason: the caller drops it and goes on waiting.
        case ignored(DNSIgnoredReason)
    }

    /// The server the query went to.
    public let server: SocketAddress
    /// The query's id.
    public let id: UInt16
    /// The query's questions.
    public let questions: [DNSQuestion]

    /// A filter for the replies to `query`.
    ///
    /// - Parameters:
    ///   - server: The address and port the query was sent to: a reply must come from there.
    ///   - query: The query sent, whose id and questions a reply must repeat.
    public init(server: SocketAddress, query: DNSMessage) {
        self.server = server
        self.id = query.id
        self.questions = query.questions
    }

    /// Checks `bytes`, which came from `sender`.
    public func check(_ bytes: some Collection<UInt8>, from sender: SocketAddress) -> Verdict {
        guard sender.isSameEndpoint(as: server) else { return .ignored(.wrongSource) }
        guard let (message, edns, unreadable) = Self.decode(Array(bytes)) else { return .ignored(.malformed) }
        guard message.isResponse, message.opcode == DNSMessage.standardQuery else { return .ignored(.notAResponse) }
        guard message.id == id else { return .ignored(.wrongID) }
        let reply = DNSReply(message: message, edns: edns, size: bytes.count, recordsUnreadable: unreadable)
        if message.questions == questions { return .reply(reply) }
        let assertsNothing =
            message.questions.isEmpty && ![0, 3].contains(reply.responseCode) && message.answers.isEmpty
            && message.authorities.isEmpty && message.additionals.allSatisfy { $0.type == .opt }
        return assertsNothing ? .reply(reply) : .ignored(.wrongQuestion)
    }

    /// Checks an ICMP error that the kernel queued for the query's socket: it ends the try (nil) only when it is
    /// about a datagram to the server and quotes at least the query's id, as a router or the server quotes it
    /// (RFC 792 quotes 8 bytes at least, RFC 1812 §4.3.2.3 as many as fit). ICMP is unauthenticated: without the
    /// id, anyone who knows the server could end every try with one forged message.
    ///
    /// An error the local stack raised (`DeliveryError.Origin.local`) quotes nothing and cannot be forged: it
    /// counts.
    ///
    /// - Returns: nil when the error is about this query, else why it is ignored.
    public func check(_ error: DeliveryError) -> DNSIgnoredReason? {
        if error.origin == .local { return nil }
        guard error.destination.isSameEndpoint(as: server) else { return .icmpWrongDestination }
        let quote = error.quotedPayload
        guard quote.count >= 2 else { return .icmpShortQuote }
        guard UInt16(quote[quote.startIndex]) << 8 | UInt16(quote[quote.startIndex + 1]) == id else {
            return .icmpWrongID
        }
        return nil
    }

    /// The message, or for a truncated reply cut inside a record its header and question; nil when malformed.
    private static func decode(_ bytes: [UInt8]) -> (DNSMessage, EDNS?, Bool)? {
        if let message = try? DNSMessage(decoding: bytes) {
            // Not `try?`: it would flatten "no OPT record" (nil) into "a malformed one".
            do { return (message, try message.edns, false) } catch { return nil }
        }
        guard let header = try? DNSMessage(decodingQuestionsOf: bytes), header.isTruncated else { return nil }
        return (header, nil, true)
    }
}
