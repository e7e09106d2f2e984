import UDP
import UDPDiscovery

/// The SSDP engine of `udp discover --ssdp`: searches for UPnP devices and services (UPnP Device Architecture
/// 1.1 §1.3) on one address family, on the interfaces given, and listens to their announcements.
///
/// Two sockets: `M-SEARCH` goes out of one on an ephemeral port, to which devices answer by unicast, and the
/// other shares port 1900 with the host's other SSDP listeners to hear `NOTIFY` alive and byebye. Searches go
/// out on the continuous-query schedule mDNS uses (20–120 ms, then 1 s doubling), since UDP may lose any one of
/// them. Each interface has an `SSDPBrowser` of its own, so an event says where the device was
/// seen; malformed packets and other control points' searches are counted and dropped. Each browser keeps at
/// most 1024 advertisements taking 1 MiB (`SSDPBrowser`), pushing out those heard least recently, and a
/// datagram is refused at its first line over 2048 bytes or its 65th header (`SSDPMessage`), all counted in
/// ``counters``.
public struct SSDPSearchSession: ~Copyable {
    /// An advertisement that appeared or left, on one interface.
    public struct Event: Sendable {
        /// The interface, by index, where it was heard.
        public var interfaceIndex: UInt32
        /// The session's address family.
        public var family: AddressFamily
        /// What changed: the advertisement appeared (a response or `ssdp:alive`) or was removed (`ssdp:byebye`,
        /// or its `max-age` ran out) (`SSDPBrowser.Event`).
        public var change: SSDPBrowser.Event
    }

    /// What the session received, sent, and refused, by reason; every interface together.
    ///
    /// Its `description` lists the non-zero counts on one line in a fixed wording, as `udp discover --ssdp
    /// --stats` prints them: `12 responses, 40 notifications, 3 malformed, 2 oversized, 512 advertisements
    /// evicted`.
    public struct Counters: Sendable, Equatable, CustomStringConvertible {
        /// Unicast answers to this session's searches (`HTTP/1.1 200 OK`), on any interface.
        public var responses = 0
        /// `NOTIFY` messages heard (alive, update, byebye), on any interface.
        public var notifications = 0
        /// Other control points' searches (and this one's own, looped back).
        public var searches = 0
        /// Packets that did not parse as SSDP, for a reason other than their size.
        public var malformed = 0
        /// Packets refused for a line over `SSDPMessage.maximumLineLength` bytes or more than
        /// `SSDPMessage.maximumHeaders` headers, at the first byte past the limit.
        public var oversized = 0
        /// Messages that arrived on an interface not searched.
        public var otherInterface = 0
        /// `M-SEARCH` datagrams sent, one per interface each time; one lost to a link error (the interface
        /// went down) is not counted.
        public var searchesSent = 0
        /// Advertisements pushed out of a full table, by entries or bytes (`SSDPBrowser.evicted`).
        public var evicted = 0
        /// Advertisements not kept, larger than the table's byte bound on their own (`SSDPBrowser.refused`).
        public var refused = 0
        /// All counts zero.
        public init() {}

        /// The non-zero counts on one line, in a wording that stays the same.
        public var description: String {
            countList([
                "responses": responses,
                "notifications": notifications,
                "searches heard": searches,
                "malformed": malformed,
                "oversized": oversized,
                "other interface": otherInterface,
                "searches sent": searchesSent,
                "advertisements evicted": evicted,
                "advertisements refused (too large)": refused,
            ])
        }
    }

    /// The IPv4 group, 239.255.255.250.
    public static let groupV4 = IPAddress.v4(IPv4Address(239, 255, 255, 250))
    /// The IPv6 group, ff02::c (link-local scope).
    public static let groupV6 = IPAddress.v6(IPv6Address("ff02::c")!)
    /// The SSDP port, 1900, where searches go and announcements arrive.
    public static let port: UInt16 = 1900
    /// The multicast TTL the specification gives.
    public static let hops: UInt8 = 2

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
    /// The session's own counts; the browsers keep theirs.
    private var received = Counters()
    private var browsers: [UInt32: SSDPBrowser] = [:]
    private var buffer = [UInt8](repeating: 0, count: 9_000)

    /// - Parameters:
    ///   - family: IPv4 (239.255.255.250) or IPv6 (ff02::c).
    ///   - target: `ST`: `ssdp:all`, `upnp:rootdevice`, `uuid:…` or a type URN.
    ///   - maximumWait: `MX`, the most seconds devices wait before answering (1-5).
    ///   - interfaces: The interfaces to search on, by index.
    public init(family: AddressFamily, target: String, maximumWait: Int = 1, interfaces: [UInt32]) {
        self.family = family
        self.interfaces = interfaces
        search = SSDPSearch(target: target, maximumWait: maximumWait, host: SSDPMessage.groupHost(family))
        for interface in interfaces { browsers[interface] = SSDPBrowser(target: target) }
    }

    /// The group on `family`.
    public static func group(_ family: AddressFamily) -> IPAddress { family == .inet ? groupV4 : groupV6 }

    /// The socket searches go out of and answers come back to: an ephemeral port, TTL 2, packet info on.
    public static func makeSearchSocket(family: AddressFamily) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket(family: family)
        if family == .inet6 { try socket.setIPv6Only(true) }
        try socket.bind(to: .any(family, port: 0))
        try socket.setMulticastHops(Int(hops))
        try socket.setMulticastLoopback(true)
        try socket.setReceivePacketInfo(true)
        return socket
    }

    /// The socket announcements arrive on: port 1900 shared, the group joined on each interface.
    public static func makeListenSocket(family: AddressFamily, interfaces: [UInt32]) throws(UDPError) -> UDPSocket {
        try UDPSocket.linkGroup(group(family), port: port, interfaces: interfaces, hops: hops)
    }

    /// Searches and listens until `stop` is requested or `deadline` (on ``MonotonicClock``) passes.
    public mutating func run(
        searchingWith searchSocket: borrowing UDPSocket,
        listeningWith listenSocket: borrowing UDPSocket,
        until stop: StopSignal,
        deadline: UInt64? = nil,
        onEvent: (Event) -> Void
    ) throws(UDPError) {
        var schedule = MDNSQuerySchedule(startingAt: MonotonicClock.now())
        var sockets = PollSet()
        sockets.add(searchSocket.descriptor)
        sockets.add(listenSocket.descriptor)
        while !stop.isRequested {
            let now = MonotonicClock.now()
            if let deadline, now >= deadline { break }
            if now >= schedule.nextQuery {
                try sendSearches(searchSocket)
                schedule.sent()
            }
            for interface in interfaces {
                for change in browsers[interface]!.expire(now: now) {
                    onEvent(Event(interfaceIndex: interface, family: family, change: change))
                }
            }
            var wake = schedule.nextQuery
            if let deadline { wake = min(wake, deadline) }
            for browser in browsers.values { if let expiry = browser.nextExpiry { wake = min(wake, expiry) } }
            guard try sockets.wait(until: wake, stop: stop) else { continue }
            while let info = try searchSocket.receiveIfQueued(into: &buffer) { handle(info, onEvent) }
            while let info = try listenSocket.receiveIfQueued(into: &buffer) { handle(info, onEvent) }
        }
    }

    private mutating func handle(_ info: ReceiveInfo, _ onEvent: (Event) -> Void) {
        let message: SSDPMessage
        do throws(SSDPError) {
            message = try SSDPMessage(parsing: buffer[..<info.count])
        } catch {
            if error.isOversized {
                received.oversized += 1
            } else {
                received.malformed += 1
            }
            return
        }
        switch message {
        case .search:
            received.searches += 1
            return
        case .response: received.responses += 1
        case .notify: received.notifications += 1
        }
        guard let interface = info.interfaceIndex, browsers[interface] != nil else {
            received.otherInterface += 1
            return
        }
        for change in browsers[interface]!.receive(message, at: MonotonicClock.now()) {
            onEvent(Event(interfaceIndex: interface, family: family, change: change))
        }
    }

    /// One `M-SEARCH` out of each interface.
    private mutating func sendSearches(_ socket: borrowing UDPSocket) throws(UDPError) {
        let bytes = SSDPMessage.search(search).encoded
        let group = SocketAddress(Self.group(family), port: Self.port)
        for interface in interfaces {
            if try socket.sendOnLink(bytes, to: group, interface: interface) { received.searchesSent += 1 }
        }
    }
}
