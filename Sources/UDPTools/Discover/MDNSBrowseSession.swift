import UDP
import UDPDNS
import UDPDiscovery

/// The engine of `udp discover`: browses DNS-SD services by multicast DNS (RFC 6762/6763) on one address
/// family, on the interfaces given, from one socket that shares port 5353 with the host's other responders.
///
/// It asks with the continuous-query schedule (20–120 ms, then 1 s doubling), each query carrying the answers
/// already known so responders need not repeat them, and asks again at once (100 ms after the last query at the
/// soonest) for what a new type or instance still lacks (its instances; SRV, TXT, addresses). Each interface
/// has a cache and a browser of its own, so an event says where the instance was seen. Responses are believed
/// only from the link: source port 5353 and a hop limit of 255, which a router would have lowered (RFC 6762
/// §11); queries and malformed packets are counted and dropped. A record that does not decode is skipped by its
/// length and counted, and the rest of its packet kept (RFC 6762 §18). Under a flood it reads at most
/// 64 datagrams in one go, so that its queries still go out and its records still expire.
///
/// What a neighbour can grow is bounded per interface, and what was refused is counted in ``counters``: the
/// cache (`MDNSCache`: 4096 records and 1 MiB, an eighth of each per source address, so a flood from one
/// address displaces only its own records), the types the meta-query names (`DNSSDBrowser`: 1024 types and
/// 64 KiB) and the instances (1024 and 1 MiB). Its questions never set the unicast-response bit:
/// port 5353 is shared, and the kernel could hand a unicast answer to another responder's socket (§15.1).
public struct MDNSBrowseSession: ~Copyable {
    /// An instance that appeared, was resolved or left, on one interface.
    public struct Event: Sendable {
        /// The interface, by index, whose responses showed it.
        public var interfaceIndex: UInt32
        /// The session's address family.
        public var family: AddressFamily
        /// What changed: the instance appeared, was resolved (SRV, TXT, addresses) or was removed
        /// (`DNSSDBrowser.Event`).
        public var change: DNSSDBrowser.Event
    }

    /// What the session received, sent, and refused, by reason; every interface together.
    ///
    /// Its `description` lists the non-zero counts on one line in a fixed wording, as `udp discover --stats`
    /// prints them: `1204 responses, 3 malformed, 99000 types refused (limit 1024), 12 records evicted (source
    /// quota)`.
    public struct Counters: Sendable, Equatable, CustomStringConvertible {
        /// Responses from the link, on an interface browsed, taken into that interface's cache.
        public var responses = 0
        /// Queries from other hosts (a querier does not answer them).
        public var queries = 0
        /// Packets whose header or questions did not decode as DNS: dropped whole.
        public var malformed = 0
        /// Records skipped in responses taken in: their data did not decode, or the packet ended inside them
        /// (`DNSMessage.decodingLeniently(_:)`).
        public var recordsSkipped = 0
        /// Responses from off the link (hop limit below 255, or a source port other than 5353).
        public var offLink = 0
        /// Query datagrams sent, one per interface each time; one lost to a link error (the interface went
        /// down) is not counted.
        public var queriesSent = 0
        /// Service types the meta-query named that were not browsed, the bound reached
        /// (`DNSSDBrowser.Counters.typesRefused`).
        public var typesRefused = 0
        /// Instances not tracked, the bound reached (`DNSSDBrowser.Counters.instancesRefused`).
        public var instancesRefused = 0
        /// Changes to an instance not taken, the byte bound reached (`DNSSDBrowser.Counters.updatesRefused`).
        public var instanceUpdatesRefused = 0
        /// Records pushed out of a cache because their source was at its quota
        /// (`MDNSCache.Counters.evictedBySourceQuota`).
        public var recordsEvictedBySourceQuota = 0
        /// Records pushed out of a full cache, from the source holding the most
        /// (`MDNSCache.Counters.evictedWhenFull`).
        public var recordsEvictedWhenFull = 0
        /// Records not cached, larger than a source's byte quota (`MDNSCache.Counters.refusedTooLarge`).
        public var recordsRefusedTooLarge = 0
        /// Not a count: the most types browsed on one interface (`DNSSDBrowser.maximumTypes`), for the
        /// description.
        public var typeLimit = 0
        /// Not a count: the most instances tracked on one interface (`DNSSDBrowser.maximumInstances`), for the
        /// description.
        public var instanceLimit = 0
        /// All counts zero.
        public init() {}

        /// The non-zero counts on one line, in a wording that stays the same.
        public var description: String {
            countList([
                "responses": responses,
                "queries heard": queries,
                "malformed": malformed,
                "records skipped": recordsSkipped,
                "off link": offLink,
                "queries sent": queriesSent,
                "types refused (limit \(typeLimit))": typesRefused,
                "instances refused (limit \(instanceLimit))": instancesRefused,
                "instance updates refused": instanceUpdatesRefused,
                "records evicted (source quota)": recordsEvictedBySourceQuota,
                "records evicted (cache full)": recordsEvictedWhenFull,
                "records refused (too large)": recordsRefusedTooLarge,
            ])
        }
    }

    /// The IPv4 group, 224.0.0.251 (link-local scope).
    public static let groupV4 = IPAddress.v4(IPv4Address(224, 0, 0, 251))
    /// The IPv6 group, ff02::fb (link-local scope).
    public static let groupV6 = IPAddress.v6(IPv6Address("ff02::fb")!)
    /// The mDNS port, 5353, for queries, responses, and the source port of every response believed.
    public static let port: UInt16 = 5353

    /// The family browsed on: IPv4 (group 224.0.0.251) or IPv6 (ff02::fb).
    public let family: AddressFamily
    /// The interfaces browsed on, by index.
    public let interfaces: [UInt32]
    /// What the session received, sent and refused, with what each interface's cache and browser refused.
    public var counters: Counters {
        var total = received
        for cache in caches.values {
            total.recordsEvictedBySourceQuota += cache.counters.evictedBySourceQuota
            total.recordsEvictedWhenFull += cache.counters.evictedWhenFull
            total.recordsRefusedTooLarge += cache.counters.refusedTooLarge
        }
        for browser in browsers.values {
            total.typesRefused += browser.counters.typesRefused
            total.instancesRefused += browser.counters.instancesRefused
            total.instanceUpdatesRefused += browser.counters.updatesRefused
            total.typeLimit = browser.maximumTypes
            total.instanceLimit = browser.maximumInstances
        }
        return total
    }
    /// The session's own counts; the caches and browsers keep theirs.
    private var received = Counters()
    private var caches: [UInt32: MDNSCache] = [:]
    private var browsers: [UInt32: DNSSDBrowser] = [:]
    private var buffer = [UInt8](repeating: 0, count: 9_000)

    /// - Parameters:
    ///   - family: IPv4 (224.0.0.251) or IPv6 (ff02::fb).
    ///   - types: Service types to browse (`_http._tcp.local`), nil for every type on the link.
    ///   - interfaces: The interfaces to browse on, by index.
    public init(family: AddressFamily, types: [DNSName]?, interfaces: [UInt32]) {
        self.family = family
        self.interfaces = interfaces
        for interface in interfaces {
            caches[interface] = MDNSCache()
            browsers[interface] = DNSSDBrowser(types: types)
        }
    }

    private var group: SocketAddress {
        SocketAddress(family == .inet ? Self.groupV4 : Self.groupV6, port: Self.port)
    }

    /// A socket for mDNS on `family` (`UDPSocket.linkGroup(_:port:interfaces:hops:)`), with hop limit 255
    /// both ways, which receivers check to know a packet is from the link.
    public static func makeSocket(family: AddressFamily, interfaces: [UInt32]) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket.linkGroup(
            family == .inet ? groupV4 : groupV6,
            port: port,
            interfaces: interfaces,
            hops: 255
        )
        try socket.setUnicastHops(255)
        return socket
    }

    /// Browses until `stop` is requested or `deadline` (on ``MonotonicClock``) passes.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        deadline: UInt64? = nil,
        onEvent: (Event) -> Void
    ) throws(UDPError) {
        var schedule = MDNSQuerySchedule(startingAt: MonotonicClock.now())
        var followUp = false
        var lastQuery: UInt64 = 0
        while !stop.isRequested {
            let now = MonotonicClock.now()
            if let deadline, now >= deadline { break }
            // A follow-up waits for the minimum spacing, so a flood of forged answers cannot make a query flood.
            if now >= schedule.nextQuery || (followUp && now >= lastQuery + Self.followUpSpacing) {
                try sendQueries(socket, now: now)
                if now >= schedule.nextQuery { schedule.sent() }
                followUp = false
                lastQuery = now
            }
            expire(now: now, onEvent)
            var wake = schedule.nextQuery
            if followUp { wake = min(wake, lastQuery + Self.followUpSpacing) }
            if let deadline { wake = min(wake, deadline) }
            for interface in interfaces { if let expiry = caches[interface]?.nextExpiry() { wake = min(wake, expiry) } }
            guard try stop.wait(forReadable: socket.descriptor, until: wake) else { continue }
            // Under a flood the queue never empties: go round after a batch, or once a query or an expiry is
            // due, so that queries still go out, records still expire and a stop is still seen.
            var read = 0
            while read < Self.datagramsPerWake, let info = try socket.receiveIfQueued(into: &buffer) {
                read += 1
                let now = MonotonicClock.now()
                if handle(info, at: now, onEvent) { followUp = true }
                if now >= wake { break }
            }
        }
    }

    /// The least time between a query and a follow-up.
    static let followUpSpacing: UInt64 = 100_000_000

    /// The most datagrams read in one go before the loop looks at its clock, its queries and its stop signal.
    static let datagramsPerWake = 64

    /// Takes in one datagram; returns whether an instance or (browsing every type) a type appeared, so that a
    /// follow-up query asks for what it still lacks.
    private mutating func handle(_ info: ReceiveInfo, at now: UInt64, _ onEvent: (Event) -> Void) -> Bool {
        guard let decoded = try? DNSMessage.decodingLeniently(buffer[..<info.count]) else {
            received.malformed += 1
            return false
        }
        let message = decoded.message
        guard message.isResponse else {
            received.queries += 1
            return false
        }
        guard info.sender.port == Self.port, info.hopLimit.map({ $0 == 255 }) ?? true,
            let interface = info.interfaceIndex, caches[interface] != nil
        else {
            received.offLink += 1
            return false
        }
        received.responses += 1
        received.recordsSkipped += decoded.skippedRecords
        let changes = caches[interface]!.insert(
            message.answers + message.additionals,
            from: info.sender.ip.unmapped,
            at: now
        )
        let typesKnown = browsers[interface]!.typeCount
        let events = browsers[interface]!.apply(changes, cache: caches[interface]!)
        var appeared = browsers[interface]!.typeCount > typesKnown
        for change in events {
            if case .appeared = change { appeared = true }
            onEvent(Event(interfaceIndex: interface, family: family, change: change))
        }
        return appeared
    }

    private mutating func expire(now: UInt64, _ onEvent: (Event) -> Void) {
        for interface in interfaces {
            let changes = caches[interface]!.expire(now: now)
            guard !changes.isEmpty else { continue }
            for change in browsers[interface]!.apply(changes, cache: caches[interface]!) {
                onEvent(Event(interfaceIndex: interface, family: family, change: change))
            }
        }
    }

    /// One query per interface: the browser's questions, with the answers already known, as many of each as
    /// fit one datagram of a typical link (counted uncompressed, so the datagram only comes out smaller); the
    /// questions that did not fit go out with the next query.
    private mutating func sendQueries(_ socket: borrowing UDPSocket, now: UInt64) throws(UDPError) {
        let budget = 1_400 - 12
        for interface in interfaces {
            let cache = caches[interface]!
            var query = DNSMessage()
            var size = 0
            for question in browsers[interface]!.questions(cache: cache) {
                let cost = question.name.wireLength + 4
                guard size + cost <= budget else { break }
                query.questions.append(question)
                size += cost
            }
            answers: for question in query.questions {
                for known in cache.knownAnswers(for: question, at: now) {
                    let cost = known.name.wireLength + 10 + MDNSCache.dataSize(of: known)
                    guard size + cost <= budget else { break answers }
                    query.answers.append(known)
                    size += cost
                }
            }
            guard let bytes = try? query.encoded() else { continue }
            if try socket.sendOnLink(bytes, to: group, interface: interface) { received.queriesSent += 1 }
        }
    }
}
