/// What became of the probes sent so far: the counters of a ping or bench run.
///
/// `received + lost + inFlight == sent` at every moment, and `received + lost == sent` once a run is
/// finished. Duplicates and late replies are counted apart and never in `received`.
public struct ProbeCounts: Sendable, Equatable {
    /// Probes handed to the kernel.
    public var sent = 0
    /// Probes answered within the loss timeout (each counted once).
    public var received = 0
    /// Probes with no reply within the loss timeout (or still unanswered when the run stopped).
    public var lost = 0
    /// Further replies to a probe already answered.
    public var duplicates = 0
    /// First replies whose sequence number is lower than that of a reply received before them.
    public var reordered = 0
    /// Replies to probes already counted lost: after the timeout, or too old to track.
    public var late = 0

    /// All counts zero: no probe sent yet.
    public init() {}

    /// Adds each of `part`'s counts to `total`'s: how `udp bench` sums up its workers.
    public static func += (total: inout ProbeCounts, part: ProbeCounts) {
        total.sent += part.sent
        total.received += part.received
        total.lost += part.lost
        total.duplicates += part.duplicates
        total.reordered += part.reordered
        total.late += part.late
    }
}

/// Which probes are in flight, answered or lost: a ring of slots indexed by sequence number modulo a power of
/// two, allocated once, so that tracking a datagram costs no allocation and no hashing.
///
/// Like the project's other protocol logic it holds no socket and no clock: the caller passes times in
/// nanoseconds. Sequence numbers start at 1 and each ``sent(_:at:)`` takes the next ones.
///
/// A probe is lost when no reply comes within `lossTimeout`, or, if sooner, when `capacity` later probes
/// have been sent (its slot is needed again). Its slot is kept after it is answered or lost, until reused, so
/// a duplicate or a late reply is still recognised as one.
package struct ProbeTracker: ~Copyable {
    /// What a reply turned out to be, from ``handleReply(sequence:at:)``; round trips are in nanoseconds.
    package enum Outcome: Equatable {
        /// The first reply to a probe in flight: `roundTrip` nanoseconds after it was sent.
        case received(roundTrip: UInt64, reordered: Bool)
        /// A further reply to a probe already answered.
        case duplicate(roundTrip: UInt64)
        /// A reply to a probe already counted lost (`roundTrip` is nil when its slot was reused since).
        case late(roundTrip: UInt64?)
        /// A sequence number never sent: not a reply to this run.
        case unknown
    }

    private enum State: UInt8 {
        case empty, pending, answered, lost
    }

    /// A probe's send time and fate. Its sequence number is not stored: only the last `capacity` sequence
    /// numbers are looked up, and each of those has a slot of its own.
    private struct Slot {
        var sentAt: UInt64 = 0
        var state = State.empty
    }

    /// Slots in the ring: the capacity asked for, rounded up to a power of two. A probe is counted lost when
    /// this many later probes have been sent, whatever its timeout.
    package let capacity: Int
    /// Nanoseconds a probe may wait for its reply.
    package let lossTimeout: UInt64
    private let mask: UInt64
    private let slots: UnsafeMutablePointer<Slot>
    /// What became of the probes so far.
    package private(set) var counts = ProbeCounts()
    /// The sequence number the next probe gets.
    package private(set) var nextSequence: UInt64 = 1
    /// The lowest sequence number that may still be in flight; every probe below it is answered or lost.
    private var oldest: UInt64 = 1
    private var highestReceived: UInt64 = 0

    /// - Parameters:
    ///   - capacity: Slots, rounded up to a power of two; at least the most probes in flight at once.
    ///   - lossTimeout: Nanoseconds after which an unanswered probe is lost.
    package init(capacity: Int, lossTimeout: UInt64) {
        precondition(capacity > 0 && capacity <= 1 << 24)
        var size = 1
        while size < capacity { size <<= 1 }
        self.capacity = size
        self.lossTimeout = lossTimeout
        mask = UInt64(size - 1)
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(), count: size)
    }

    /// - Parameters:
    ///   - capacity: Slots, rounded up to a power of two; at least the most probes in flight at once.
    ///   - lossTimeout: How long an unanswered probe waits before it is lost.
    package init(capacity: Int, lossTimeout: Duration) {
        self.init(capacity: capacity, lossTimeout: MonotonicClock.nanoseconds(lossTimeout))
    }

    deinit {
        slots.deallocate()
    }

    /// Probes sent and not yet answered or lost.
    package var inFlight: Int { counts.sent - counts.received - counts.lost }

    /// A tracker of its own with this one's probes, counts and ring: for a machine that holds a tracker and is
    /// copied (``PingSession``'s copy on write).
    func copy() -> ProbeTracker {
        var copy = ProbeTracker(capacity: capacity, lossTimeout: lossTimeout)
        copy.slots.update(from: slots, count: capacity)
        copy.counts = counts
        copy.nextSequence = nextSequence
        copy.oldest = oldest
        copy.highestReceived = highestReceived
        return copy
    }

    /// When the oldest probe in flight is lost if no reply comes first; nil with nothing in flight.
    package var nextDeadline: UInt64? {
        guard oldest < nextSequence else { return nil }
        return slots[Int(oldest & mask)].sentAt + lossTimeout
    }

    /// Records that the next `count` probes (``nextSequence`` on) were sent at `now`.
    package mutating func sent(_ count: Int, at now: UInt64) {
        for _ in 0..<count {
            if nextSequence - oldest == UInt64(capacity) {
                // The slot is needed again while its probe is still in flight: count it lost now.
                markLost(oldest)
                advanceOldest()
            }
            slots[Int(nextSequence & mask)] = Slot(sentAt: now, state: .pending)
            nextSequence += 1
            counts.sent += 1
        }
    }

    /// Counts every probe in flight whose deadline is at or before `now` as lost, calling `onLost` with each
    /// one's sequence number.
    package mutating func expire(now: UInt64, onLost: (UInt64) -> Void = { _ in }) {
        while oldest < nextSequence {
            let slot = slots[Int(oldest & mask)]
            guard slot.sentAt + lossTimeout <= now else { return }
            markLost(oldest)
            onLost(oldest)
            advanceOldest()
        }
    }

    /// Counts every probe still in flight as lost: the run is over.
    package mutating func finish() {
        while oldest < nextSequence {
            markLost(oldest)
            advanceOldest()
        }
    }

    /// Classifies a reply carrying probe `sequence`, received at `now`, and counts it.
    package mutating func handleReply(sequence: UInt64, at now: UInt64) -> Outcome {
        guard sequence > 0, sequence < nextSequence else { return .unknown }
        guard nextSequence - sequence <= UInt64(capacity) else {
            counts.late += 1  // so old that its slot was reused: it was counted lost then
            return .late(roundTrip: nil)
        }
        let index = Int(sequence & mask)
        let slot = slots[index]
        let roundTrip = now >= slot.sentAt ? now - slot.sentAt : 0
        switch slot.state {
        case .pending where roundTrip >= lossTimeout:
            markLost(sequence)
            advanceOldest()
            counts.late += 1
            return .late(roundTrip: roundTrip)
        case .pending:
            slots[index].state = .answered
            counts.received += 1
            let reordered = sequence < highestReceived
            if reordered { counts.reordered += 1 }
            highestReceived = max(highestReceived, sequence)
            advanceOldest()
            return .received(roundTrip: roundTrip, reordered: reordered)
        case .answered:
            counts.duplicates += 1
            return .duplicate(roundTrip: roundTrip)
        case .lost:
            counts.late += 1
            return .late(roundTrip: roundTrip)
        case .empty:
            return .unknown  // not reached: every sequence number below nextSequence was recorded
        }
    }

    private mutating func markLost(_ sequence: UInt64) {
        let index = Int(sequence & mask)
        guard slots[index].state == .pending else { return }
        slots[index].state = .lost
        counts.lost += 1
    }

    /// Moves ``oldest`` past probes already answered or lost, so it names the oldest one in flight.
    private mutating func advanceOldest() {
        while oldest < nextSequence && slots[Int(oldest & mask)].state != .pending { oldest += 1 }
    }
}
