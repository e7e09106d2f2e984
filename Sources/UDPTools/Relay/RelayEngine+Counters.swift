import UDP

extension RelayEngine {
    /// Counters of one direction.
    ///
    /// They add up: every datagram received is lost (`dropped`) or goes on as one copy, or two when
    /// `duplicated`, and every copy is `forwarded`, refused `over rate` or `queue full`, met a `send error`,
    /// found `no upstream socket`, or is still `in flight`. So received − dropped + duplicated = forwarded +
    /// over rate + queue full + send errors + no upstream socket + in flight.
    public struct DirectionCounters: Sendable, Equatable {
        /// Datagrams received in this direction (each datagram of a train counts).
        public var received = 0
        /// Copies sent on.
        public var forwarded = 0
        /// Datagrams lost on purpose (``Impairment/loss``).
        public var dropped = 0
        /// Datagrams sent twice (``Impairment/duplicate``): each adds one copy.
        public var duplicated = 0
        /// Held-back copies that went out after the datagram behind them (``Impairment/reorder``); one whose
        /// hold ran out with no successor is not counted.
        public var reordered = 0
        /// Copies given a delay (``Impairment/delay`` or ``Impairment/jitter`` set).
        public var delayed = 0
        /// Copies refused because they would wait too long for their slot (``Impairment/rate``,
        /// a second at most): `over rate`.
        public var rateDropped = 0
        /// Copies refused because the relay already held its most delayed copies (``maximumHeld``), as netem
        /// refuses past its `limit`: a fast sender and a long delay cannot grow the queue without bound.
        public var queueFull = 0
        /// Copies whose send failed (a full send queue, an unreachable destination): `send errors`.
        public var failed = 0
        /// Copies with no socket to leave by: the client's could not be made (descriptors ran out), or its
        /// mapping expired or was evicted while the copy waited.
        public var unmapped = 0
        /// Copies waiting for their time (delay, rate slot, or held back to reorder).
        public var inFlight = 0
        /// ICMP errors (port unreachable, most often) reported on the upstream sockets: not datagrams, so
        /// outside the sum above.
        public var unreachable = 0

        /// All counts zero.
        public init() {}
    }

    /// Both directions' counters and the client mappings'.
    public struct Counters: Sendable, Equatable {
        /// Client to server.
        public var up = DirectionCounters()
        /// Server to client.
        public var down = DirectionCounters()
        /// Clients with a mapping (an upstream socket) now.
        public var activeClients = 0
        /// Mappings dropped because their client was silent longer than the idle timeout.
        public var expiredClients = 0
        /// Mappings dropped to make room for a new client: the table was full (`maxClients`), or descriptors
        /// ran out.
        public var evictedClients = 0
    }
}
