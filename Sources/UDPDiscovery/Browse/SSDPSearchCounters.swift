import UDPPatterns

extension SSDPSearchSession {
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
        /// Events dropped because the session's user did not poll them before
        /// `SSDPSearchSession.maximumPendingEvents` were waiting; a driver polls after every input, so this
        /// stays 0.
        public var eventsDropped = 0
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
                "events dropped (not polled)": eventsDropped,
            ])
        }
    }
}
