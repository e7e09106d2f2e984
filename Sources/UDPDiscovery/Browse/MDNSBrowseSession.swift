import UDP
import UDPDNS
import UDPPatterns

/// The machine behind `udp discover`: browses DNS-SD services by multicast DNS (RFC 6762/6763) on one address
/// family, on the interfaces given, as a `DatagramMachine` that holds no socket and reads no clock. Its driver
/// runs it on one socket that shares port 5353 with the host's other responders (socket 0).
///
/// It asks with the continuous-query schedule (``MDNSQuerySchedule``: 20–120 ms, then 1 s doubling up to an
/// hour), each query carrying the answers already known so responders need not repeat them (as many as fit
/// ``queryBudget`` bytes), and asks again at once (``followUpSpacing`` after the last query at the soonest) for
/// what a new type or instance still lacks (its instances; SRV, TXT, addresses). Each interface has a cache and
/// a browser of its own, so an event says where the instance was seen. Responses are believed only from the
/// link: source port 5353, a hop limit of 255, which a router would have lowered (RFC 6762 §11), and an
/// interface browsed; queries and malformed packets are counted and dropped. A record that does not decode is
/// skipped by its length and counted, and the rest of its packet kept (RFC 6762 §18).
///
/// What a neighbour can grow is bounded per interface, and what was refused is counted in ``counters``: the
/// cache (``MDNSCache``: 4096 records and 1 MiB, an eighth of each per source address, so a flood from one
/// address displaces only its own records), the types the meta-query names (``DNSSDBrowser``: 1024 types and
/// 64 KiB) and the instances (1024 and 1 MiB). Its questions never set the unicast-response bit:
/// port 5353 is shared, and the kernel could hand a unicast answer to another responder's socket (§15.1).
///
/// ```swift
/// var generator = SystemRandomNumberGenerator()
/// var session = MDNSBrowseSession(
///     family: .inet, types: nil, interfaces: [2], startingAt: .now(), using: &generator)
/// try MachineDriver(stop: stop).run(&session, on: socket) { event in print(event.change) }
/// ```
public struct MDNSBrowseSession: DatagramMachine, Sendable {
    /// An instance that appeared, was resolved or left, on one interface.
    public struct Event: Sendable, Hashable {
        /// The interface, by index, whose responses showed it.
        public var interfaceIndex: UInt32
        /// The session's address family.
        public var family: AddressFamily
        /// What changed: the instance appeared, was resolved (SRV, TXT, addresses) or was removed.
        public var change: DNSSDBrowser.Event
    }

    /// The IPv4 group, 224.0.0.251 (link-local scope).
    public static let groupV4 = IPAddress.v4(IPv4Address(224, 0, 0, 251))
    /// The IPv6 group, ff02::fb (link-local scope).
    public static let groupV6 = IPAddress.v6(IPv6Address("ff02::fb")!)
    /// The mDNS port, 5353, for queries, responses, and the source port of every response believed.
    public static let port: UInt16 = 5353
    /// The hop limit of every mDNS packet, and the only one a response from the link arrives with.
    public static let hopLimit: UInt8 = 255
    /// The least time between a query and a follow-up: a flood of forged answers cannot make a query flood.
    public static let followUpSpacing = Duration.milliseconds(100)
    /// The most bytes of a query datagram, header included, counted uncompressed: a typical link's.
    public static let queryBudget = 1_400
    /// The most events held for the user before the oldest are kept and new ones dropped (counted in
    /// ``Counters/eventsDropped``); a driver polls them after every input.
    public static let maximumPendingEvents = 8_192

    /// The group on `family`: 224.0.0.251 or ff02::fb.
    public static func group(_ family: AddressFamily) -> IPAddress { family == .inet ? groupV4 : groupV6 }

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
    /// Each interface's cache, by index: what its responses brought.
    public private(set) var caches: [UInt32: MDNSCache] = [:]
    /// Each interface's browser, by index: the types and instances its cache shows.
    public private(set) var browsers: [UInt32: DNSSDBrowser] = [:]
    /// When the continuous queries go out.
    public private(set) var schedule: MDNSQuerySchedule

    /// The session's own counts; the caches and browsers keep theirs.
    private var received = Counters()
    /// Whether a new type or instance wants a follow-up query.
    private var followUp = false
    /// When the last query went out (was queued), for the follow-up spacing.
    private var lastQuery: MonotonicInstant?
    /// The interfaces whose query is due and not yet given to the driver; at most one entry each.
    private var pendingQueries: [UInt32] = []
    /// Events not yet polled, oldest first.
    private var events = MachineQueue<Event>(limit: Self.maximumPendingEvents)

    /// A session that knows nothing yet, whose first query goes out `firstDelay` after `now`.
    ///
    /// - Parameters:
    ///   - family: IPv4 (224.0.0.251) or IPv6 (ff02::fb).
    ///   - types: Service types to browse (`_http._tcp.local`), nil for every type on the link.
    ///   - interfaces: The interfaces to browse on, by index.
    ///   - now: When the session starts.
    ///   - firstDelay: The delay before the first query (RFC 6762 §5.2 draws it from 20–120 ms).
    ///   - maximumRecords: The most records each interface's cache holds (``MDNSCache``).
    ///   - maximumTypes: The most types each interface's browser learns (``DNSSDBrowser``).
    ///   - maximumInstances: The most instances each interface's browser tracks (``DNSSDBrowser``).
    public init(
        family: AddressFamily,
        types: [DNSName]?,
        interfaces: [UInt32],
        startingAt now: MonotonicInstant,
        firstDelay: Duration,
        maximumRecords: Int = 4_096,
        maximumTypes: Int = 1_024,
        maximumInstances: Int = 1_024
    ) {
        self.family = family
        self.interfaces = interfaces
        schedule = MDNSQuerySchedule(startingAt: now, firstDelay: firstDelay)
        for interface in self.interfaces {
            caches[interface] = MDNSCache(maximumRecords: maximumRecords)
            browsers[interface] = DNSSDBrowser(
                types: types,
                maximumTypes: maximumTypes,
                maximumInstances: maximumInstances
            )
        }
    }

    /// A session whose first query goes out after a random 20–120 ms drawn from `generator`.
    public init(
        family: AddressFamily,
        types: [DNSName]?,
        interfaces: [UInt32],
        startingAt now: MonotonicInstant,
        using generator: inout some RandomNumberGenerator
    ) {
        self.init(
            family: family,
            types: types,
            interfaces: interfaces,
            startingAt: now,
            firstDelay: MDNSQuerySchedule.randomFirstDelay(using: &generator)
        )
    }

    /// Takes a datagram from the shared port: a response from the link goes into its interface's cache.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        advance(to: now)
        if take(datagram, at: now) { followUp = true }
        advance(to: now)
    }

    /// Sends the queries due and expires the records due.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        advance(to: now)
    }

    /// Counts a query that left; one lost to a link error is not counted.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        if case .sent = report { received.queriesSent += 1 }
    }

    /// The next interface's query: the browser's questions, with the answers already known at `now`, as many of
    /// each as fit ``queryBudget`` bytes (counted uncompressed, so the datagram only comes out smaller); the
    /// questions that did not fit go out with the next query.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        while !pendingQueries.isEmpty {
            let interface = pendingQueries.removeFirst()
            guard let cache = caches[interface], let browser = browsers[interface] else { continue }
            let query = Self.query(browser.questions(cache: cache), cache: cache, at: now)
            guard let bytes = try? query.encoded() else { continue }
            return OutboundDatagram(
                bytes,
                to: SocketAddress(Self.group(family), port: Self.port),
                interfaceIndex: interface
            )
        }
        return nil
    }

    /// The next instance that appeared, was resolved or left.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    /// The next query (or follow-up), or the next record's expiry, whichever is sooner.
    public var nextDeadline: MonotonicInstant? {
        var wake = schedule.nextQuery
        if followUp, let lastQuery { wake = min(wake, lastQuery + Self.followUpSpacing) }
        for cache in caches.values { if let expiry = cache.nextExpiry { wake = min(wake, expiry) } }
        return wake
    }

    /// The events waiting to be polled.
    public var pendingEventCount: Int { events.count }

    /// A query of `questions`, with known answers, within ``queryBudget``.
    static func query(_ questions: [DNSQuestion], cache: MDNSCache, at now: MonotonicInstant) -> DNSMessage {
        let budget = queryBudget - 12
        var query = DNSMessage()
        var size = 0
        for question in questions {
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
        return query
    }

    /// Queues the queries due (a follow-up waits for the spacing) and expires the records due at `now`.
    private mutating func advance(to now: MonotonicInstant) {
        let due = now >= schedule.nextQuery
        let followUpDue = followUp && lastQuery.map { now >= $0 + Self.followUpSpacing } ?? followUp
        if due || followUpDue {
            for interface in interfaces where !pendingQueries.contains(interface) { pendingQueries.append(interface) }
            if due { schedule.sent(at: now) }
            followUp = false
            lastQuery = now
        }
        for interface in interfaces {
            let changes = caches[interface]!.expire(now: now)
            guard !changes.isEmpty else { continue }
            for change in browsers[interface]!.apply(changes, cache: caches[interface]!) {
                emit(Event(interfaceIndex: interface, family: family, change: change))
            }
        }
    }

    /// Takes in one datagram; returns whether an instance or (browsing every type) a type appeared, so that a
    /// follow-up query asks for what it still lacks.
    private mutating func take(_ datagram: InboundDatagram, at now: MonotonicInstant) -> Bool {
        guard let decoded = try? DNSMessage.decodingLeniently(datagram.payload) else {
            received.malformed += 1
            return false
        }
        let message = decoded.message
        guard message.isResponse else {
            received.queries += 1
            return false
        }
        if let reason = offLinkReason(datagram.info) {
            received.offLink += 1
            received.offLinkByReason[reason, default: 0] += 1
            return false
        }
        let interface = datagram.info.interfaceIndex!
        received.responses += 1
        received.recordsSkipped += decoded.skippedRecords
        let changes = caches[interface]!.insert(
            message.answers + message.additionals,
            from: datagram.sender.ip.unmapped,
            at: now
        )
        let typesKnown = browsers[interface]!.typeCount
        let changed = browsers[interface]!.apply(changes, cache: caches[interface]!)
        var appeared = browsers[interface]!.typeCount > typesKnown
        for change in changed {
            if case .appeared = change { appeared = true }
            emit(Event(interfaceIndex: interface, family: family, change: change))
        }
        return appeared
    }

    /// Why a response is not from the link, or nil when it is (RFC 6762 §11). A hop limit the kernel did not
    /// report is not held against it.
    private func offLinkReason(_ info: ReceiveInfo) -> OffLinkReason? {
        guard info.sender.port == Self.port else { return .sourcePort }
        guard info.hopLimit.map({ $0 == Self.hopLimit }) ?? true else { return .hopLimit }
        guard let interface = info.interfaceIndex, caches[interface] != nil else { return .unknownInterface }
        return nil
    }

    private mutating func emit(_ event: Event) {
        if !events.append(event) { received.eventsDropped += 1 }
    }
}
