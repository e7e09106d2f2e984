/// The kernel's report that a datagram this socket sent did not get through: an ICMP or ICMPv6 error from a
/// router or from the peer, or an error the local stack raised, read from the socket's error queue.
///
/// Turn the queue on with ``UDPSocket/setReceiveErrors(_:)`` and read it with ``UDPSocket/receiveError()``.
/// Unlike the bare `ECONNREFUSED` of a connected socket, an event says who sent it (``offender``), what it
/// means (``kind``), where the datagram was going (``destination``) and how it began (``quotedPayload``), and
/// it works on unconnected sockets too: a server learns which of its peers are unreachable.
///
/// ICMP errors are unauthenticated, and anyone on the path can forge one: match ``quotedPayload`` against
/// what was really sent before acting on it.
public struct DeliveryError: Sendable, Hashable, CustomStringConvertible {
    /// Who raised the error.
    public enum Origin: Sendable, Hashable {
        /// The local stack, before the datagram left (a datagram over the known path MTU).
        case local
        /// An ICMP (IPv4) message from a router or the destination host.
        case icmp
        /// An ICMPv6 message from a router or the destination host.
        case icmpv6
    }

    /// What went wrong, decoded from the ICMP type and code (or the local errno).
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        /// No route to the destination network (ICMP net unreachable; ICMPv6 no route).
        case networkUnreachable
        /// The destination host did not answer on its link (ICMP host unreachable; ICMPv6 address unreachable).
        case hostUnreachable
        /// The destination host has no socket on the port: the usual "nobody is listening".
        case portUnreachable
        /// A firewall refused it (ICMP communication administratively prohibited; ICMPv6 likewise, or a failed
        /// ingress/egress policy, or a reject route).
        case administrativelyProhibited
        /// A router's link is smaller than the datagram and it may not fragment it (ICMP fragmentation needed,
        /// ICMPv6 packet too big), with the MTU the router reports.
        case packetTooBig(mtu: Int)
        /// The hop limit (TTL) reached zero on the way, or the destination gave up reassembling its fragments.
        case timeExceeded
        /// The local stack refused a datagram larger than the path MTU it knows, with that MTU.
        case messageTooLarge(mtu: Int)
        /// Anything else, with the raw ICMP type and code (both 0 for a local error; see ``errno``).
        case other(type: UInt8, code: UInt8)

        public var description: String {
            switch self {
            case .networkUnreachable: "network unreachable"
            case .hostUnreachable: "host unreachable"
            case .portUnreachable: "port unreachable"
            case .administrativelyProhibited: "administratively prohibited"
            case .packetTooBig(let mtu): "fragmentation needed (mtu \(mtu))"
            case .timeExceeded: "time exceeded"
            case .messageTooLarge(let mtu): "message too large (mtu \(mtu))"
            case .other(let type, let code): "icmp type \(type) code \(code)"
            }
        }

        /// A name that stays the same for every MTU: for counting errors by kind.
        public var name: String {
            switch self {
            case .networkUnreachable: "network_unreachable"
            case .hostUnreachable: "host_unreachable"
            case .portUnreachable: "port_unreachable"
            case .administrativelyProhibited: "administratively_prohibited"
            case .packetTooBig: "packet_too_big"
            case .timeExceeded: "time_exceeded"
            case .messageTooLarge: "message_too_large"
            case .other: "other"
            }
        }
    }

    /// Who raised it.
    public var origin: Origin
    /// What it means.
    public var kind: Kind
    /// The error number the kernel gives it (`ECONNREFUSED` for a port unreachable, `EMSGSIZE` for a packet too
    /// big, `EHOSTUNREACH` for a time exceeded…): what a plain send or receive would have failed with.
    public var errno: Errno
    /// The raw ICMP or ICMPv6 type (0 for a local error): 3 is destination unreachable in ICMP, 1 in ICMPv6.
    public var type: UInt8
    /// The raw ICMP or ICMPv6 code, which refines ``type`` (0 for a local error): 3 with type 3 is ICMP's port
    /// unreachable.
    public var code: UInt8
    /// The host that sent the ICMP message (a router, or the destination itself), or this host for a local
    /// error; nil when the kernel does not say. An IPv4 offender on a dual-stack socket is given as IPv4.
    public var offender: IPAddress?
    /// Where the datagram that failed was going.
    public var destination: SocketAddress
    /// The first bytes of that datagram's payload, as the ICMP message quoted them (routers quote at least 8;
    /// Linux routers quote up to 548 over IPv4 and 1232 over IPv6), at most ``quoteLimit``: enough to match the
    /// error to what was sent. Empty for a local error.
    public var quotedPayload: [UInt8]

    /// The most payload bytes kept from a quote.
    public static let quoteLimit = 256

    /// Creates an event from its parts: for tests, and for code that reads the error queue itself. The
    /// library's ``UDPSocket/receiveError()`` builds these from the kernel's `sock_extended_err`.
    public init(
        origin: Origin,
        kind: Kind,
        errno: Errno,
        type: UInt8 = 0,
        code: UInt8 = 0,
        offender: IPAddress?,
        destination: SocketAddress,
        quotedPayload: [UInt8] = []
    ) {
        self.origin = origin
        self.kind = kind
        self.errno = errno
        self.type = type
        self.code = code
        self.offender = offender
        self.destination = destination
        self.quotedPayload = quotedPayload
    }

    /// In ping(8)'s words: `From 198.18.1.1: network unreachable`, or without `From` when nobody is named.
    public var description: String {
        guard let offender else { return "\(kind)" }
        return "From \(offender): \(kind)"
    }
}

extension DeliveryError.Kind {
    /// Decodes an ICMP (IPv4) type and code.
    init(icmpType type: UInt8, code: UInt8, info: UInt32) {
        switch (type, code) {
        case (3, 0), (3, 6), (3, 11): self = .networkUnreachable
        case (3, 1), (3, 7), (3, 12): self = .hostUnreachable
        case (3, 3): self = .portUnreachable
        case (3, 4): self = .packetTooBig(mtu: Int(info))
        case (3, 9), (3, 10), (3, 13): self = .administrativelyProhibited
        case (11, _): self = .timeExceeded
        default: self = .other(type: type, code: code)
        }
    }

    /// Decodes an ICMPv6 type and code.
    init(icmpv6Type type: UInt8, code: UInt8, info: UInt32) {
        switch (type, code) {
        case (1, 0): self = .networkUnreachable
        case (1, 1), (1, 5), (1, 6): self = .administrativelyProhibited
        case (1, 3): self = .hostUnreachable
        case (1, 4): self = .portUnreachable
        case (2, _): self = .packetTooBig(mtu: Int(info))
        case (3, _): self = .timeExceeded
        default: self = .other(type: type, code: code)
        }
    }
}
