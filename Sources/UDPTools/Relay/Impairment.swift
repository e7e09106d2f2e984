import UDPPatterns

/// What the relay does to the datagrams of one direction: the faults of netem, in user space.
public struct Impairment: Sendable, Equatable {
    /// Probability of dropping a datagram.
    public var loss = 0.0
    /// Probability of sending a datagram twice.
    public var duplicate = 0.0
    /// Probability of holding a datagram back until the next one in this direction has gone (or
    /// ``reorderHold`` has passed).
    public var reorder = 0.0
    /// Delay added to every datagram.
    public var delay = Duration.zero
    /// Delay varies uniformly by up to this much either way (which reorders, as netem's does).
    public var jitter = Duration.zero
    /// Datagrams per second at most, 0 for no limit; the excess waits up to a second for its slot, then is
    /// dropped.
    public var rate = 0.0

    /// By default nothing: a transparent direction, which the relay forwards in batches as received.
    ///
    /// - Parameters:
    ///   - loss: Probability of dropping a datagram, 0–1.
    ///   - duplicate: Probability of sending a datagram twice, 0–1.
    ///   - reorder: Probability of holding a datagram back behind the next one, 0–1.
    ///   - delay: Delay added to every datagram.
    ///   - jitter: The most the delay varies either way.
    ///   - rate: Datagrams per second at most; 0 for no limit.
    public init(
        loss: Double = 0,
        duplicate: Double = 0,
        reorder: Double = 0,
        delay: Duration = .zero,
        jitter: Duration = .zero,
        rate: Double = 0
    ) {
        self.loss = loss
        self.duplicate = duplicate
        self.reorder = reorder
        self.delay = delay
        self.jitter = jitter
        self.rate = rate
    }

    /// How long a held-back datagram waits for a successor before it goes anyway.
    public static let reorderHold = Duration.milliseconds(50)

    /// True when this direction changes nothing.
    public var isTransparent: Bool {
        loss == 0 && duplicate == 0 && reorder == 0 && delay == .zero && jitter == .zero && rate == 0
    }

    /// The fate of one datagram: whether it is lost, when each copy leaves, whether it is held back. In
    /// monotonic nanoseconds, as the relay's loop keeps its times per datagram.
    package struct Fate: Equatable, Sendable {
        /// When the copies leave (monotonic nanoseconds): none when lost, two when duplicated.
        package var departures: (UInt64?, UInt64?)
        /// Whether it is held back behind the next datagram of its direction.
        package var isHeld: Bool

        /// The departures, in order.
        package var times: [UInt64] { [departures.0, departures.1].compactMap { $0 } }
        /// How many copies leave: 0 when lost, 2 when duplicated.
        package var copies: Int { (departures.0 == nil ? 0 : 1) + (departures.1 == nil ? 0 : 1) }

        package static func == (lhs: Fate, rhs: Fate) -> Bool {
            lhs.departures.0 == rhs.departures.0 && lhs.departures.1 == rhs.departures.1 && lhs.isHeld == rhs.isHeld
        }
    }

    /// The fate of one datagram arriving at `now`, drawn from `random`: the same seed gives the same fates,
    /// datagram by datagram. Reordering and rate limiting act on the relay's queue, since they depend on the
    /// other datagrams; this only says whether the datagram is held.
    package func fate(now: UInt64, using random: inout SeededGenerator) -> Fate {
        if random.chance(loss) { return Fate(departures: (nil, nil), isHeld: false) }
        let duplicated = random.chance(duplicate)
        let first = departure(now, &random)
        let second = duplicated ? departure(now, &random) : nil
        return Fate(departures: (first, second), isHeld: random.chance(reorder))
    }

    private func departure(_ now: UInt64, _ random: inout SeededGenerator) -> UInt64 {
        var offset = Int64(clamping: MonotonicClock.nanoseconds(delay))
        let jitter = Int64(clamping: MonotonicClock.nanoseconds(jitter))
        if jitter > 0 { offset += Int64.random(in: -jitter...jitter, using: &random) }
        return now + UInt64(max(0, offset))
    }
}
