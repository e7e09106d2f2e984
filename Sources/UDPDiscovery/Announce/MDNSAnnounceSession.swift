import UDP
import UDPDNS
import UDPPatterns

/// The machine behind `udp announce`: publishes one service by multicast DNS on one address family, one
/// ``MDNSResponder`` per interface (each with that interface's addresses), until ``stop(at:)``, which queues the
/// goodbyes. It reads the interfaces' addresses again every five seconds, through the closure it is given, and
/// announces them again when they change.
///
/// A record in a query or response that does not decode is skipped by its length and counted, and the rest of
/// its packet used (RFC 6762 §18). Only the link is heard (§11): a packet with a hop limit below 255 is dropped,
/// unless it is a query from an address on the interface's networks (a one-shot client's unicast query may have
/// been sent with a lower limit). Each responder's state is bounded whatever the link sends (``MDNSResponder``);
/// what the session dropped and what the responders met are counted in ``counters``.
///
/// It holds no socket and reads no clock: `MachineDriver` runs it on a socket that shares port 5353 with the
/// host's other responders, and a test with a fake clock.
public struct MDNSAnnounceSession: DatagramMachine {
    /// What the session received and dropped, and the conflicts its responders met, by reason; every
    /// interface together.
    ///
    /// Its `description` lists the non-zero counts on one line in a fixed wording, as `udp announce --stats`
    /// prints them: `40 queries, 2 responses, 1 malformed, 1 conflicts (renamed)`.
    public struct Counters: Sendable, Equatable, CustomStringConvertible {
        /// Queries taken in, from the link, on an interface announced on.
        public var queries = 0
        /// Responses taken in (checked for conflicts with the names published).
        public var responses = 0
        /// Packets whose header or questions did not decode: dropped whole.
        public var malformed = 0
        /// Records skipped in the packets taken in: their data did not decode, or the packet ended inside them.
        public var recordsSkipped = 0
        /// Packets from off the link: a hop limit below 255 and (a query) a source on none of the interface's
        /// networks.
        public var offLink = 0
        /// Packets that arrived on an interface not announced on.
        public var otherInterface = 0
        /// Responses that claimed a name while it was being probed, each a rename (``MDNSResponder/Counters``).
        public var conflicts = 0
        /// Responses that claimed a name already published, each answered by defending it.
        public var defended = 0
        /// Probes by other hosts that won the tie-break for a name being probed.
        public var tieBreaksLost = 0
        /// All counts zero.
        public init() {}

        /// The non-zero counts on one line, in a wording that stays the same.
        public var description: String {
            countList([
                "queries": queries,
                "responses": responses,
                "malformed": malformed,
                "records skipped": recordsSkipped,
                "off link": offLink,
                "other interface": otherInterface,
                "conflicts (renamed)": conflicts,
                "conflicts (defended)": defended,
                "tie-breaks lost": tieBreaksLost,
            ])
        }
    }

    /// What a responder did, on one interface.
    public struct Event: Sendable, Hashable {
        /// The interface, by index, whose responder it was.
        public var interfaceIndex: UInt32
        /// The session's address family.
        public var family: AddressFamily
        /// What the responder did: announced the service once its probes met no conflict, or renamed it after
        /// one (``MDNSResponder/Event``).
        public var event: MDNSResponder.Event
    }

    /// The mDNS port, 5353.
    public static let port: UInt16 = 5353

    /// The mDNS group of `family`, port 5353: 224.0.0.251 or ff02::fb.
    public static func group(_ family: AddressFamily) -> SocketAddress {
        let ip: IPAddress = family == .inet ? .v4(IPv4Address(224, 0, 0, 251)) : .v6(IPv6Address("ff02::fb")!)
        return SocketAddress(ip, port: port)
    }

    /// The family announced on: IPv4 (group 224.0.0.251) or IPv6 (ff02::fb).
    public let family: AddressFamily
    /// The responders, by interface index.
    public var responders: [UInt32: MDNSResponder] { perInterface.byInterface }
    private var perInterface: PerInterfaceResponders<MDNSResponder>
    private var received = Counters()

    /// Queries and responses that did not decode (``Counters/malformed``).
    public var malformed: Int { received.malformed }
    /// Packets from off the link (``Counters/offLink``).
    public var offLink: Int { received.offLink }

    /// What the session received and dropped, with what each responder met.
    public var counters: Counters {
        var total = received
        for responder in responders.values {
            total.conflicts += responder.counters.conflicts
            total.defended += responder.counters.defended
            total.tieBreaksLost += responder.counters.tieBreaksLost
        }
        return total
    }

    /// - Parameters:
    ///   - family: IPv4 (224.0.0.251) or IPv6 (ff02::fb).
    ///   - service: What to publish; its addresses are replaced, on each interface, by that interface's own.
    ///   - interfaces: Each interface, by index, with its addresses: those published there, and the networks
    ///     whose queries are answered.
    ///   - now: When it starts.
    ///   - addresses: Reads every interface's addresses now, by index (`getifaddrs`), or nil when that failed;
    ///     called every five seconds from ``handleTimeout(at:)``. A test gives a fake.
    ///   - random: The source of the responders' random delays; the system's by default, a seeded one in tests.
    public init(
        family: AddressFamily,
        service: MDNSService,
        interfaces: [UInt32: [InterfaceAddress]],
        at now: MonotonicInstant,
        addresses: @escaping @Sendable () -> [UInt32: [InterfaceAddress]]?,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.family = family
        perInterface = PerInterfaceResponders(interfaces: interfaces, at: now, addresses: addresses, random: random) {
            addresses,
            random in
            var published = service
            published.addresses = addresses.map(\.address)
            return MDNSResponder(service: published, at: now, random: random)
        }
    }

    /// Queues every responder's goodbye (each record with TTL 0) and stops: nothing is received, answered or
    /// announced after. The driver's `flush` sends them.
    public mutating func stop(at now: MonotonicInstant) {
        perInterface.stop(at: now)
    }

    /// True once stopped.
    public var isFinished: Bool { perInterface.isStopped }

    /// The earliest of the responders' next steps and the next reading of the addresses; nil once stopped.
    public var nextDeadline: MonotonicInstant? { perInterface.nextDeadline }

    /// Takes the passing of ``nextDeadline``: probes, announcements and held answers due, and the addresses read
    /// again when due (a changed interface says goodbye to what it lost and announces again).
    public mutating func handleTimeout(at now: MonotonicInstant) {
        perInterface.handleTimeout(at: now)
    }

    /// Takes a query or response from the link.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        guard !perInterface.isStopped else { return }
        guard let decoded = try? DNSMessage.decodingLeniently(datagram.payload) else {
            received.malformed += 1
            return
        }
        let message = decoded.message
        let info = datagram.info
        guard let index = info.interfaceIndex, perInterface.serves(index) else {
            received.otherInterface += 1
            return
        }
        // Only the link counts (RFC 6762 §11): a response with hop limit 255, which no router forwards; a query
        // with that, or from an address on the interface's networks (a one-shot client's unicast query may have
        // been sent with a lower limit).
        let fromLink = info.hopLimit.map { $0 == 255 } ?? true
        guard fromLink || (!message.isResponse && perInterface.isOnLink(info.sender.ip, interface: index)) else {
            received.offLink += 1
            return
        }
        if message.isResponse { received.responses += 1 } else { received.queries += 1 }
        received.recordsSkipped += decoded.skippedRecords
        perInterface.withResponder(index) { $0.receive(message, from: info.sender.unmapped, at: now) }
    }

    /// The next message a responder queued, encoded, to the group out of its interface or to one host.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        perInterface.pollTransmit(group: Self.group(family), family: family)
    }

    /// The next thing a responder did: announced, or renamed after a conflict.
    public mutating func pollEvent() -> Event? {
        let family = family
        return perInterface.first { index, responder in
            responder.pollEvent().map { Event(interfaceIndex: index, family: family, event: $0) }
        }
    }
}
