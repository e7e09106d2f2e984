/// One SNTP client request (RFC 4330, RFC 5905 client mode) and the judgement of what comes back, without a
/// socket or a clock.
///
/// The request carries a random transmit timestamp rather than the client's time: it tells an observer nothing
/// about the client's clock, and it is a 64-bit nonce that a reply must echo as its origin timestamp, so an
/// off-path spoofer who cannot see the request cannot forge a reply to it. The client keeps its real send time
/// (T1) to itself.
///
/// ```swift
/// let request = SNTPRequest()
/// let sentAt = WallClockTime.now()  // T1, read just before the send, or the kernel's transmit timestamp
/// try socket.send(request.packet.encoded, to: server)
/// // … a datagram from the server arrives at receivedAt …
/// switch request.check(datagram: bytes) {
/// case .reply(let reply): print(NTPSample(reply: reply, sentAt: sentAt, receivedAt: receivedAt).offset)
/// case .kissOfDeath(let code): print("kiss-o'-death", code)
/// case .invalid(let reason): print("ignored:", reason)
/// }
/// ```
public struct SNTPRequest: Hashable, Sendable {
    /// What a reply is.
    public enum Verdict: Hashable, Sendable {
        /// A valid server reply to this request.
        case reply(NTPPacket)
        /// The server refuses to serve: stratum 0 with the reason as four letters (`RATE`, `DENY`, `RSTR`).
        case kissOfDeath(KissCode)
        /// Not a usable reply to this request, and why.
        case invalid(Rejection)
    }

    /// Why a datagram is not a usable reply.
    public enum Rejection: String, Hashable, Sendable, CaseIterable {
        /// The datagram is shorter than the 48-byte header.
        case malformed = "shorter than an NTP header"
        /// An extension field after the header has a length under 16 or not a multiple of 4 (RFC 7822 §3).
        case badExtensionField = "malformed extension field"
        /// Bytes after the header end inside an extension field, or are neither extension fields nor a MAC.
        case trailingBytes = "bytes past the extension fields"
        /// Its origin timestamp is not this request's nonce: a reply to another request, a late one, or a forgery.
        case wrongOrigin = "wrong origin timestamp"
        /// Its mode is not server (``NTPPacket/Mode/server``).
        case notServer = "not a server reply"
        /// Its version is not 1 to 4.
        case badVersion = "unknown version"
        /// The server says it is not synchronised: leap indicator 3, or stratum 16 or more.
        case unsynchronised = "server unsynchronised"
        /// Its receive or transmit timestamp is zero, so it carries no time to use.
        case noTime = "no receive or transmit time"
        /// Its root distance (root delay / 2 + root dispersion) is over ``SNTPRequest/maximumRootDistance``.
        case rootDistance = "root distance over 16 s"
    }

    /// The most root distance (root delay / 2 + root dispersion) a usable server may claim: RFC 5905's MAXDISP.
    public static let maximumRootDistance = Duration.seconds(16)

    /// The request as sent.
    public let packet: NTPPacket

    /// A version 4 client request whose transmit timestamp is `nonce` (random by default).
    public init(nonce: UInt64 = .random(in: 1...UInt64.max)) {
        packet = NTPPacket(mode: .client, transmitTimestamp: NTPTimestamp(rawValue: nonce))
    }

    /// Judges a datagram: first its length (``NTPPacket/init(parsing:)``), then the packet as ``check(_:)``
    /// does.
    public func check(datagram bytes: some Collection<UInt8>) -> Verdict {
        do throws(NTPPacket.Malformation) {
            return check(try NTPPacket(parsing: bytes))
        } catch {
            switch error {
            case .tooShort: return .invalid(.malformed)
            case .badExtensionField: return .invalid(.badExtensionField)
            case .trailingBytes: return .invalid(.trailingBytes)
            }
        }
    }

    /// Judges `reply` (nil when the datagram was malformed), in the order RFC 5905 §8 and RFC 4330 §5
    /// give: a reply to this request at all (the origin echoes the nonce), then a kiss-o'-death (stratum 0,
    /// whatever else it says), then a server reply whose values a client can use.
    public func check(_ reply: NTPPacket?) -> Verdict {
        guard let reply else { return .invalid(.malformed) }
        guard reply.originTimestamp == packet.transmitTimestamp else { return .invalid(.wrongOrigin) }
        if reply.stratum == 0 { return .kissOfDeath(KissCode(referenceID: reply.referenceID)) }
        guard reply.mode == .server else { return .invalid(.notServer) }
        guard (1...4).contains(reply.version) else { return .invalid(.badVersion) }
        guard reply.leap != .unsynchronised, reply.stratum < 16 else { return .invalid(.unsynchronised) }
        guard reply.transmitTimestamp != .zero, reply.receiveTimestamp != .zero else { return .invalid(.noTime) }
        guard reply.rootDelayDuration / 2 + reply.rootDispersionDuration <= Self.maximumRootDistance else {
            return .invalid(.rootDistance)
        }
        return .reply(reply)
    }
}

/// A kiss-o'-death's code (RFC 5905 §7.4): four ASCII letters in the reference ID of a stratum-0 reply.
public struct KissCode: Hashable, Sendable, CustomStringConvertible {
    /// The four letters as one number, first letter in the high byte, as the reference ID carries them:
    /// `RATE` is `0x5241_5445`.
    public var referenceID: UInt32

    /// Creates a code from a stratum-0 reply's reference ID (``NTPPacket/referenceID``).
    public init(referenceID: UInt32) { self.referenceID = referenceID }

    /// The code as text (`RATE`), or as hexadecimal when it is not printable.
    public var description: String {
        let packet = NTPPacket(mode: .server, stratum: 0, referenceID: referenceID)
        return packet.referenceIDText.contains(".") ? "0x" + String(referenceID, radix: 16) : packet.referenceIDText
    }

    /// The server asks for fewer requests: back off.
    public static let rate = KissCode(referenceID: 0x5241_5445)
    /// Access denied: stop asking this server.
    public static let deny = KissCode(referenceID: 0x4445_4E59)
    /// Access restricted: stop asking this server.
    public static let restricted = KissCode(referenceID: 0x5253_5452)

    /// Whether the client must stop asking this server (RFC 4330 §8: `DENY` and `RSTR`).
    public var meansStop: Bool { self == .deny || self == .restricted }
}
