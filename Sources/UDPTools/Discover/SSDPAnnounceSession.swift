import UDP
import UDPDiscovery

/// The SSDP engine of `udp announce --ssdp`: advertises one UPnP device on one address family, one
/// `SSDPResponder` per interface, from a socket that shares port 1900 with the host's other SSDP
/// responders, until stopped; then it says `ssdp:byebye`.
///
/// SSDP is a well-known amplifier (a small search, several larger answers), so a search is answered only when
/// it comes from the link it arrived on: from an address on one of that interface's networks, or an IPv6
/// link-local one. Others are counted and dropped. Each responder's queue of answers is bounded
/// (`SSDPResponder.maximumPending`); what was dropped is counted in ``counters``.
public struct SSDPAnnounceSession: ~Copyable {
    /// What the session received, answered and dropped, by reason; every interface together.
    ///
    /// Its `description` lists the non-zero counts on one line in a fixed wording, as `udp announce --ssdp
    /// --stats` prints them: `12 searches answered, 3 searches ignored, 2 malformed, 1 off link`.
    public struct Counters: Sendable, Equatable, CustomStringConvertible {
        /// Searches that matched an advertisement (`SSDPResponder.Counters.searchesAnswered`).
        public var searchesAnswered = 0
        /// Searches for something else.
        public var searchesIgnored = 0
        /// Searches dropped because `SSDPResponder.maximumPending` answers were already waiting.
        public var searchesDropped = 0
        /// Packets that did not parse as SSDP, for a reason other than their size.
        public var malformed = 0
        /// Packets refused for a line over `SSDPMessage.maximumLineLength` bytes or more than
        /// `SSDPMessage.maximumHeaders` headers.
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
    public struct Event: Sendable {
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

    /// The family advertised on: IPv4 (group 239.255.255.250) or IPv6 (ff02::c).
    public let family: AddressFamily
    private var responders: [UInt32: SSDPResponder] = [:]
    private var links: LinkAddresses
    private var announced: Set<UInt32> = []
    private var buffer = [UInt8](repeating: 0, count: 9_000)
    private var received = Counters()
    /// Packets that did not parse as SSDP (``Counters/malformed`` and ``Counters/oversized``).
    public var malformed: Int { received.malformed + received.oversized }
    /// Searches from sources not on the link they arrived on (``Counters/offLink``).
    public var offLink: Int { received.offLink }

    /// - Parameters:
    ///   - family: IPv4 (239.255.255.250) or IPv6 (ff02::c).
    ///   - advertisements: What to advertise (`SSDPResponder.advertisements(uuid:type:location:server:maximumAge:)`).
    ///   - interfaces: Each interface, by index, with its addresses: the networks whose searches are answered.
    ///   - now: ``MonotonicClock`` now.
    public init(
        family: AddressFamily,
        advertisements: [SSDPAdvertisement],
        interfaces: [UInt32: [InterfaceAddress]],
        now: UInt64
    ) {
        self.family = family
        links = LinkAddresses(interfaces, now: now)
        for index in interfaces.keys { responders[index] = SSDPResponder(advertisements: advertisements, now: now) }
    }

    /// The answers and drops of every interface together.
    public var counters: Counters {
        responders.values.reduce(into: received) { total, responder in
            total.searchesAnswered += responder.counters.searchesAnswered
            total.searchesIgnored += responder.counters.searchesIgnored
            total.searchesDropped += responder.counters.searchesDropped
        }
    }

    /// Advertises on `socket` (from ``SSDPSearchSession/makeListenSocket(family:interfaces:)``) until `stop` is
    /// requested, then sends the byebyes.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        onEvent: (Event) -> Void
    ) throws(UDPError) {
        while !stop.isRequested {
            let now = MonotonicClock.now()
            for index in responders.keys.sorted() {
                let messages = responders[index]!.poll(now: now)
                try send(messages, on: index, socket)
                if !messages.isEmpty, announced.insert(index).inserted {
                    onEvent(
                        Event(
                            interfaceIndex: index,
                            family: family,
                            kind: .announced(responders[index]!.advertisements)
                        )
                    )
                }
            }
            _ = links.refresh(now: now)  // for the on-link check: the advertisements name a URL, not addresses
            let wake = min(responders.values.compactMap(\.nextWake).min() ?? .max, links.nextCheck)
            guard try stop.wait(forReadable: socket.descriptor, until: wake) else { continue }
            while let info = try socket.receiveIfQueued(into: &buffer) {
                let message: SSDPMessage
                do throws(SSDPError) {
                    message = try SSDPMessage(parsing: buffer[..<info.count])
                } catch {
                    if error.isOversized {
                        received.oversized += 1
                    } else {
                        received.malformed += 1
                    }
                    continue
                }
                guard case .search = message, let index = info.interfaceIndex, responders[index] != nil else {
                    received.ignored += 1
                    continue
                }
                guard links.isOnLink(info.sender.ip, interface: index) else {
                    received.offLink += 1
                    continue
                }
                responders[index]!.receive(
                    message,
                    from: info.sender,
                    multicast: info.destination?.isMulticast ?? true,
                    at: MonotonicClock.now()
                )
            }
        }
        for index in responders.keys.sorted() { try send(responders[index]!.stop(), on: index, socket) }
    }

    private func send(
        _ messages: [SSDPResponder.Outgoing],
        on interface: UInt32,
        _ socket: borrowing UDPSocket
    ) throws(UDPError) {
        let group = SocketAddress(SSDPSearchSession.group(family), port: SSDPSearchSession.port)
        for outgoing in messages {
            let destination: SocketAddress
            switch outgoing.destination {
            case .multicast: destination = group
            case .unicast(let address): destination = address
            }
            try socket.sendOnLink(outgoing.message.encoded(for: family), to: destination, interface: interface)
        }
    }
}
