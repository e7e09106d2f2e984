import UDP
import UDPPatterns

/// The SSDP machine behind `udp discover --ssdp`: searches for UPnP devices and services (UPnP Device
/// Architecture 1.1 §1.3) on one address family, on the interfaces given, and listens to their announcements,
/// as a `DatagramMachine` that holds no socket and reads no clock.
///
/// Its driver runs it on two sockets: `M-SEARCH` goes out of socket ``searchSocket`` (an ephemeral port, to
/// which devices answer by unicast), and socket ``listenSocket`` shares port 1900 with the host's other SSDP
/// listeners to hear `NOTIFY` alive and byebye. Searches go out on the continuous-query schedule mDNS uses
/// (``MDNSQuerySchedule``: 20–120 ms, then 1 s doubling), since UDP may lose any one of them, each with the `MX`
/// given. Each interface has an ``SSDPBrowser`` of its own, so an event says where the device was seen;
/// malformed packets and other control points' searches are counted and dropped. Each browser keeps at most
/// 1024 advertisements taking 1 MiB, pushing out those heard least recently, and a datagram is refused at its
/// first line over 2048 bytes or its 65th header (``SSDPMessage``), all counted in ``counters``.
public struct SSDPSearchSession: DatagramMachine, Sendable {
    /// An advertisement that appeared or left, on one interface.
    public struct Event: Sendable, Hashable {
        /// The interface, by index, where it was heard.
        public var interfaceIndex: UInt32
        /// The session's address family.
        public var family: AddressFamily
        /// What changed: the advertisement appeared (a response or `ssdp:alive`) or was removed (`ssdp:byebye`,
        /// or its `max-age` ran out).
        public var change: SSDPBrowser.Event
    }

    /// The IPv4 group, 239.255.255.250.
    public static let groupV4 = IPAddress.v4(IPv4Address(239, 255, 255, 250))
    /// The IPv6 group, ff02::c (link-local scope).
    public static let groupV6 = IPAddress.v6(IPv6Address("ff02::c")!)
    /// The SSDP port, 1900, where searches go and announcements arrive.
    public static let port: UInt16 = 1900
    /// The multicast TTL the specification gives.
    public static let hops: UInt8 = 2
    /// The driver's socket searches go out of and answers come back to.
    public static let searchSocket = 0
    /// The driver's socket on port 1900, where announcements arrive.
    public static let listenSocket = 1
    /// How many sockets its driver runs it on: ``searchSocket`` and ``listenSocket``.
    public static let socketCount = 2
    /// The most events held for the user before new ones are dropped (counted in
    /// ``Counters/eventsDropped``); a driver polls them after every input.
    public static let maximumPendingEvents = 8_192

    /// The group on `family`.
    public static func group(_ family: AddressFamily) -> IPAddress { family == .inet ? groupV4 : groupV6 }

    /// The family searched on: IPv4 (group 239.255.255.250) or IPv6 (ff02::c).
    public let family: AddressFamily
    /// The interfaces searched on, by index.
    public let interfaces: [UInt32]
    /// The `M-SEARCH` sent out of each interface: its target (`ST`), its `MX` and its `HOST`.
    public let search: SSDPSearch
    /// What the session received, sent and refused, with what each interface's browser pushed out.
    public var counters: Counters {
        var total = received
        for browser in browsers.values {
            total.evicted += browser.evicted
            total.refused += browser.refused
        }
        return total
    }
    /// Each interface's browser, by index.
    public private(set) var browsers: [UInt32: SSDPBrowser] = [:]
    /// When the searches go out.
    public private(set) var schedule: MDNSQuerySchedule

    /// The session's own counts; the browsers keep theirs.
    private var received = Counters()
    /// The interfaces whose search is due and not yet given to the driver; at most one entry each.
    private var pendingSearches: [UInt32] = []
    /// Events not yet polled, oldest first.
    private var events = MachineQueue<Event>(limit: Self.maximumPendingEvents)

    /// A session that knows nothing yet, whose first search goes out `firstDelay` after `now`.
    ///
    /// - Parameters:
    ///   - family: IPv4 (239.255.255.250) or IPv6 (ff02::c).
    ///   - target: `ST`: `ssdp:all`, `upnp:rootdevice`, `uuid:…` or a type URN.
    ///   - maximumWait: `MX`, the most seconds devices wait before answering (1-5).
    ///   - interfaces: The interfaces to search on, by index.
    ///   - now: When the session starts.
    ///   - firstDelay: The delay before the first search.
    ///   - capacity: The most advertisements each interface's browser keeps (``SSDPBrowser``).
    ///   - maximumBytes: The most bytes they may take (``SSDPBrowser``).
    public init(
        family: AddressFamily,
        target: String,
        maximumWait: Int = 1,
        interfaces: [UInt32],
        startingAt now: MonotonicInstant,
        firstDelay: Duration,
        capacity: Int = SSDPBrowser.defaultCapacity,
        maximumBytes: Int = SSDPBrowser.defaultMaximumBytes
    ) {
        self.family = family
        self.interfaces = interfaces
        search = SSDPSearch(target: target, maximumWait: maximumWait, host: SSDPMessage.groupHost(family))
        schedule = MDNSQuerySchedule(startingAt: now, firstDelay: firstDelay)
        for interface in interfaces {
            browsers[interface] = SSDPBrowser(target: target, capacity: capacity, maximumBytes: maximumBytes)
        }
    }

    /// A session whose first search goes out after a random 20–120 ms drawn from `generator`.
    public init(
        family: AddressFamily,
        target: String,
        maximumWait: Int = 1,
        interfaces: [UInt32],
        startingAt now: MonotonicInstant,
        using generator: inout some RandomNumberGenerator
    ) {
        self.init(
            family: family,
            target: target,
            maximumWait: maximumWait,
            interfaces: interfaces,
            startingAt: now,
            firstDelay: MDNSQuerySchedule.randomFirstDelay(using: &generator)
        )
    }

    /// Takes a datagram from either socket: a response or a `NOTIFY` goes to its interface's browser.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        advance(to: now)
        take(datagram, at: now)
    }

    /// Sends the searches due and expires the advertisements due.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        advance(to: now)
    }

    /// Counts a search that left; one lost to a link error is not counted.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        if case .sent = report { received.searchesSent += 1 }
    }

    /// The next interface's `M-SEARCH`, out of ``searchSocket``.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        guard !pendingSearches.isEmpty else { return nil }
        let interface = pendingSearches.removeFirst()
        return OutboundDatagram(
            SSDPMessage.search(search).encoded,
            to: SocketAddress(Self.group(family), port: Self.port),
            interfaceIndex: interface,
            socket: Self.searchSocket
        )
    }

    /// The next advertisement that appeared or left.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    /// The next search, or the next advertisement's expiry, whichever is sooner.
    public var nextDeadline: MonotonicInstant? {
        var wake = schedule.nextQuery
        for browser in browsers.values { if let expiry = browser.nextExpiry { wake = min(wake, expiry) } }
        return wake
    }

    /// The events waiting to be polled.
    public var pendingEventCount: Int { events.count }

    /// Queues the searches due and expires the advertisements due at `now`.
    private mutating func advance(to now: MonotonicInstant) {
        if now >= schedule.nextQuery {
            for interface in interfaces where !pendingSearches.contains(interface) { pendingSearches.append(interface) }
            schedule.sent(at: now)
        }
        for interface in interfaces {
            for change in browsers[interface]!.expire(now: now) {
                emit(Event(interfaceIndex: interface, family: family, change: change))
            }
        }
    }

    private mutating func take(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        guard let message = SSDPMessage.parsing(datagram.payload, counting: &received) else { return }
        switch message {
        case .search:
            received.searches += 1
            return
        case .response: received.responses += 1
        case .notify: received.notifications += 1
        }
        guard let interface = datagram.info.interfaceIndex, browsers[interface] != nil else {
            received.otherInterface += 1
            return
        }
        for change in browsers[interface]!.receive(message, at: now) {
            emit(Event(interfaceIndex: interface, family: family, change: change))
        }
    }

    private mutating func emit(_ event: Event) {
        if !events.append(event) { received.eventsDropped += 1 }
    }
}
