import UDPPatterns

extension MDNSBrowseSession {
    /// Why a response was not believed to come from the link (RFC 6762 §11).
    public enum OffLinkReason: Sendable, Hashable, CaseIterable {
        /// Its source port was not 5353: a unicast reply, or a host off the link.
        case sourcePort
        /// Its hop limit was below 255: a router forwarded it.
        case hopLimit
        /// It arrived on an interface not browsed, or the kernel did not say which.
        case unknownInterface
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
        /// Responses from off the link (hop limit below 255, a source port other than 5353, or an interface not
        /// browsed): the sum of ``offLinkByReason``.
        public var offLink = 0
        /// The responses counted in ``offLink``, by the first check each failed.
        public var offLinkByReason: [OffLinkReason: Int] = [:]
        /// Query datagrams sent, one per interface each time; one lost to a link error (the interface went
        /// down) is not counted.
        public var queriesSent = 0
        /// Service types the meta-query named that were not browsed, the bound reached
        /// (`DNSSDBrowser.counters.typesRefused`).
        public var typesRefused = 0
        /// Instances not tracked, the bound reached (`DNSSDBrowser.counters.instancesRefused`).
        public var instancesRefused = 0
        /// Changes to an instance not taken, the byte bound reached
        /// (`DNSSDBrowser.counters.updatesRefused`).
        public var instanceUpdatesRefused = 0
        /// Records pushed out of a cache because their source was at its quota
        /// (`MDNSCache.counters.evictedBySourceQuota`).
        public var recordsEvictedBySourceQuota = 0
        /// Records pushed out of a full cache, from the source holding the most
        /// (`MDNSCache.counters.evictedWhenFull`).
        public var recordsEvictedWhenFull = 0
        /// Records not cached, larger than a source's byte quota (`MDNSCache.counters.refusedTooLarge`).
        public var recordsRefusedTooLarge = 0
        /// Events dropped because the session's user did not poll them before `MDNSBrowseSession.maximumPendingEvents`
        /// were waiting; a driver polls after every input, so this stays 0.
        public var eventsDropped = 0
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
                "events dropped (not polled)": eventsDropped,
            ])
        }
    }
}
