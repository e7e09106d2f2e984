import UDP
import UDPPatterns

/// The SSDP machine behind `udp announce --ssdp`: advertises one UPnP device on one address family, one
/// ``SSDPResponder`` per interface, until ``stop(at:)``, which queues the `ssdp:byebye`s.
///
/// SSDP is a well-known amplifier (a small search, several larger answers), so a search is answered only when
/// it comes from the link it arrived on: from an address on one of that interface's networks, or an IPv6
/// link-local one. Others are counted and dropped. Each responder's queue of answers is bounded
/// (``SSDPResponder/maximumPending``); what was dropped is counted in ``counters``.
///
/// It holds no socket and reads no clock: `MachineDriver` runs it on a socket that shares port 1900 with the
/// host's other SSDP responders, and a test with a fake clock.
public struct SSDPAnnounceSession: DatagramMachine {
    /// What the session received, answered and dropped, by reason; every interface together.
    ///
    /// Its `description` lists the non-zero counts on one line in a fixed wording, as `udp announce --ssdp
    /// --stats` prints them: `12 searches answered, 3 searches ignored, 2 malformed, 1 off link`.
    public struct Counters: Sendable, Equatable, CustomStringConvertible {
        /// Searches that matched an advertisement (``SSDPResponder/Counters/searchesAnswered``).
        public var searchesAnswered = 0
        /// Searches for something else.
        public var searchesIgnored = 0
        /// Searches dropped because ``SSDPResponder/maximumPending`` answers were already waiting.
        public var searchesDropped = 0
        /// Packets that did not parse as SSDP, for a reason other than their size.
        public var malformed = 0
        /// Packets refused for a line over ``SSDPMessage/maximumLineLength`` bytes or more than
        /// ``SSDPMessage/maximumHeaders`` headers.
        public var oversized = 0
        /// Searches from sources not on the link they arrived on.
        public var offLink = 0
        /// Messages other than searches (other devices' announcements and answers), or on an interface not
        /// advertised on: not for a responder.
        public var ignored = 0
        /// All counts zero.
        public init() {}

        /// The non-zero counts on one line, in a wording that stays the same.
        public var description: String {
            countList([
                "searches answered": searchesAnswered,
                "searches ignored": searchesIgnored,
                "searches dropped (queue full)": searchesDropped,
                "malformed": malformed,
                "oversized": oversized,
                "off link": offLink,
                "other messages": ignored,
            ])
        }
    }

    /// What happened, on one interface.
    public struct Event: Sendable, Hashable {
        /// What kind of thing happened.
        public enum Kind: Sendable, Hashable {
            /// The first `NOTIFY ssdp:alive` of these advertisements went out.
            case announced([SSDPAdvertisement])
        }

        /// The interface, by index, whose responder it was.
        public var interfaceIndex: UInt32
        /// The session's address family.
        public var family: AddressFamily
        /// What happened.
        public var kind: Kind
    }

    /// The SSDP port, 1900.
    public static let port: UInt16 = 1900

    /// The SSDP group of `family`, port 1900: 239.255.255.250 or ff02::c (link-local scope).
    public static func group(_ family: AddressFamily) -> SocketAddress {
        let ip: IPAddress = family == .inet ? .v4(IPv4Address(239, 255, 255, 250)) : .v6(IPv6Address("ff02::c")!)
        return SocketAddress(ip, port: port)
    }

    /// The family advertised on: IPv4 (group 239.255.255.250) or IPv6 (ff02::c).
    public let family: AddressFamily
    /// The responders, by interface index.
    public var responders: [UInt32: SSDPResponder] { perInterface.byInterface }
    private var perInterface: PerInterfaceResponders<SSDPResponder>
    /// The interfaces whose first announcement was reported, so each is reported once.
    private var announced: Set<UInt32> = []
    /// Events not yet polled: at most one per interface.
    private var events = MachineQueue<Event>()
    private var received = Counters()

    /// Packets that did not parse as SSDP (``Counters/malformed`` and ``Counters/oversized``).
    public var malformed: Int { received.malformed + received.oversized }
    /// Searches from sources not on the link they arrived on (``Counters/offLink``).
    public var offLink: Int { received.offLink }

    /// - Parameters:
    ///   - family: IPv4 (239.255.255.250) or IPv6 (ff02::c).
    ///   - advertisements: What to advertise
    ///     (``SSDPResponder/advertisements(uuid:type:location:server:maximumAge:)``).
    ///   - interfaces: Each interface, by index, with its addresses: the networks whose searches are answered.
    ///   - now: When it starts.
    ///   - addresses: Reads every interface's addresses now, by index (`getifaddrs`), or nil when that failed;
    ///     called every five seconds from ``handleTimeout(at:)`` for the on-link check. A test gives a fake.
    ///   - random: The source of the random delays (announcements, answers within MX); the system's by default,
    ///     a seeded one in tests.
    public init(
        family: AddressFamily,
        advertisements: [SSDPAdvertisement],
        interfaces: [UInt32: [InterfaceAddress]],
        at now: MonotonicInstant,
        addresses: @escaping @Sendable () -> [UInt32: [InterfaceAddress]]?,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.family = family
        perInterface = PerInterfaceResponders(interfaces: interfaces, at: now, addresses: addresses, random: random) {
            _,
            random in
            SSDPResponder(advertisements: advertisements, at: now, random: random)
        }
    }

    /// The answers and drops of every interface together.
    public var counters: Counters {
        responders.values.reduce(into: received) { total, responder in
            total.searchesAnswered += responder.counters.searchesAnswered
            total.searchesIgnored += responder.counters.searchesIgnored
            total.searchesDropped += responder.counters.searchesDropped
        }
    }

    /// Queues every responder's `ssdp:byebye`s and stops: nothing is received, answered or announced after. The
    /// driver's `flush` sends them.
    public mutating func stop(at now: MonotonicInstant) {
        perInterface.stop(at: now)
    }

    /// True once stopped.
    public var isFinished: Bool { perInterface.isStopped }

    /// The earliest of the responders' announcements and answers and the next reading of the addresses; nil once
    /// stopped.
    public var nextDeadline: MonotonicInstant? { perInterface.nextDeadline }

    /// Takes the passing of ``nextDeadline``: announcements and answers due, and the addresses read again (for
    /// the on-link check: the advertisements name a URL, not addresses).
    public mutating func handleTimeout(at now: MonotonicInstant) {
        for index in perInterface.handleTimeout(at: now) where announced.insert(index).inserted {
            let advertisements = responders[index]!.advertisements
            events.append(Event(interfaceIndex: index, family: family, kind: .announced(advertisements)))
        }
    }

    /// Takes a datagram from the link: a search from it is handed to its interface's responder.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        guard !perInterface.isStopped else { return }
        guard let message = SSDPMessage.parsing(datagram.payload, counting: &received) else { return }
        let info = datagram.info
        guard case .search = message, let index = info.interfaceIndex, perInterface.serves(index) else {
            received.ignored += 1
            return
        }
        guard perInterface.isOnLink(info.sender.ip, interface: index) else {
            received.offLink += 1
            return
        }
        let multicast = info.destination?.isMulticast ?? true
        perInterface.withResponder(index) { $0.receive(message, from: info.sender, multicast: multicast, at: now) }
    }

    /// The next message a responder queued, encoded for the family: to the group out of its interface, or to the
    /// control point that searched.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        perInterface.pollTransmit(group: Self.group(family), family: family)
    }

    /// The next thing that happened: an interface's first announcement.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }
}
