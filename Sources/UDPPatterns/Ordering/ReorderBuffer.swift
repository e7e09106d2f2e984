import UDP

/// Puts datagrams of a numbered stream back in order: delivers them by sequence number within a window,
/// holds early arrivals, and reports gaps, duplicates and late arrivals. Sans-I/O: it holds no socket and
/// reads no clock; the caller passes `now`.
///
/// ```swift
/// var buffer = ReorderBuffer<[UInt8]>(capacity: 64, holeTimeout: .milliseconds(50))
/// let frame = try Frame(decoding: datagram.payload)
/// buffer.receive(frame.header.sequence, frame.payload, now: .now())
/// while let output = buffer.poll() {
///     switch output {
///     case .delivered(_, let payload): play(payload)
///     case .lost(let first, let count): conceal(first, count)
///     }
/// }
/// // and when the clock reaches `buffer.nextDeadline`: buffer.handleTimeout(now: .now())
/// ```
///
/// The window is the `capacity` numbers from ``expected`` on. A number inside it is held (or delivered at
/// once if it is ``expected``). A number beyond it pushes the window forward: held numbers pushed out are
/// delivered, and the numbers never received are reported lost. With a `holeTimeout`, no element waits
/// longer than that after its arrival: when the oldest held element has waited that long, the gaps before
/// it are declared lost. A number behind ``expected`` is a ``ReorderEvent/duplicate`` if it was delivered
/// (as far back as the history reaches: `capacity` rounded up to a power of two, at least 64) and
/// ``ReorderEvent/late`` otherwise. Sequence numbers compare by RFC 1982 serial arithmetic, so the stream
/// may wrap through 2³².
///
/// Memory is bounded: a ring of `capacity` slots and the history bitmap, plus released elements until
/// you poll them (drain ``poll()`` or ``pollDelivery()`` after each call that can release some).
///
/// Without `first`, the first arrival sets ``expected``: if it overtook earlier datagrams of the stream,
/// those count as late when they come. Pass `first` when the sender starts from a known number.
public struct ReorderBuffer<Element> {
    /// What the buffer has seen, by kind.
    public struct Counters: Sendable, Hashable {
        /// Arrivals accepted into the window (in order or early).
        public var received = 0
        /// Arrivals accepted ahead of a gap, which had to wait.
        public var reordered = 0
        /// Elements released in order.
        public var delivered = 0
        /// Sequence numbers skipped without an arrival: the window moved past them, or their hole timed out.
        public var lost = 0
        /// Arrivals already held or delivered.
        public var duplicates = 0
        /// Arrivals behind the delivery point that were never received (see ``ReorderEvent/late``). Such
        /// a number was usually counted in ``lost`` already when its place was skipped.
        public var late = 0

        /// All zero.
        public init() {}
    }

    /// What ``poll()`` hands back, in sequence order.
    public enum Output {
        /// The next element of the stream.
        case delivered(SequenceNumber, Element)
        /// `count` consecutive numbers from `first` on that will never be delivered.
        case lost(first: SequenceNumber, count: Int)
    }

    fileprivate struct Slot {
        var element: Element
        var arrival: MonotonicInstant
    }

    /// How many numbers, from ``expected`` on, the buffer holds at most.
    public let capacity: Int
    /// How long an element may wait for the gaps before it to fill; nil waits until the window moves.
    public let holeTimeout: Duration?
    /// What the buffer has seen so far.
    public private(set) var counters = Counters()
    /// The next number to deliver; nil before the first arrival when no `first` was given.
    public private(set) var expected: SequenceNumber?
    /// Elements held, waiting for a gap before them.
    public private(set) var heldCount = 0

    // slots[(head + k) % capacity] holds expected + k.
    private var slots: [Slot?]
    private var head = 0
    // One bit per number behind `expected`, indexed by the number modulo a power of two (which divides 2³²,
    // so the index runs on smoothly through the wrap): set when the number was delivered.
    private var history: [UInt64]
    private let historyMask: UInt32
    // What was released and not yet polled. Unbounded here: what one call releases is bounded by the window.
    private var outputs = MachineQueue<Output>()
    // The earliest arrival among held elements, kept only with a hole timeout.
    private var oldestArrival: MonotonicInstant?

    /// Creates an empty buffer.
    ///
    /// - Parameters:
    ///   - capacity: The window: how many numbers from the next expected one are held at most (1 … 2²⁴).
    ///   - holeTimeout: The longest an element waits for the gaps before it; nil for no limit.
    ///   - first: The first number of the stream, if known; otherwise the first arrival's.
    public init(capacity: Int, holeTimeout: Duration? = nil, first: SequenceNumber? = nil) {
        precondition((1...(1 << 24)).contains(capacity), "capacity \(capacity) is out of range 1-16777216")
        self.capacity = capacity
        self.holeTimeout = holeTimeout
        self.expected = first
        self.slots = Array(repeating: nil, count: capacity)
        var historySize = 64
        while historySize < capacity { historySize *= 2 }
        self.history = Array(repeating: 0, count: historySize / 64)
        self.historyMask = UInt32(historySize - 1)
    }

    /// When ``handleTimeout(now:)`` should next run: the oldest held element's arrival plus the hole
    /// timeout; nil when nothing waits or there is no timeout.
    public var nextDeadline: MonotonicInstant? {
        guard let holeTimeout, let oldestArrival else { return nil }
        return oldestArrival + holeTimeout
    }

    /// Takes one arrival.
    ///
    /// - Parameters:
    ///   - sequence: Its sequence number.
    ///   - element: What to deliver for it.
    ///   - now: The current time, for the hole timeout.
    /// - Returns: What became of it; released elements and gaps wait in ``poll()``.
    @discardableResult
    public mutating func receive(
        _ sequence: SequenceNumber,
        _ element: Element,
        now: MonotonicInstant
    ) -> ReorderEvent {
        let start = expected ?? sequence
        expected = start
        var offset = start.distance(to: sequence)
        if offset < 0 {
            // Exactly 2³¹ behind is undefined in RFC 1982; it lands here as late, since it cannot be ahead.
            if -offset <= history.count * 64 && wasDelivered(sequence) {
                counters.duplicates += 1
                return .duplicate
            }
            counters.late += 1
            return .late
        }
        if offset >= capacity {
            skip(offset - capacity + 1)
            // What is held right after the skipped run is now in order: release it, or it would wait for the
            // next push or timeout while later arrivals count as reordered.
            releaseContiguous()
            offset = (expected ?? sequence).distance(to: sequence)
        }
        let index = (head + offset) % capacity
        if slots[index] != nil {
            counters.duplicates += 1
            return .duplicate
        }
        slots[index] = Slot(element: element, arrival: now)
        heldCount += 1
        counters.received += 1
        if offset == 0 {
            releaseContiguous()
            return .inOrder
        }
        counters.reordered += 1
        if holeTimeout != nil && oldestArrival == nil { oldestArrival = now }
        return .buffered
    }

    /// Declares lost the gaps before every held element that has waited the hole timeout, and releases
    /// what follows them. Call it when `now` reaches ``nextDeadline``; earlier calls do nothing.
    public mutating func handleTimeout(now: MonotonicInstant) {
        while let deadline = nextDeadline, deadline <= now {
            skipToNextHeld()
            releaseContiguous()
        }
    }

    /// Releases everything held, declaring the gaps between held elements lost: for the end of a stream.
    /// Numbers after the last held element are not counted lost; ``expected`` moves just past it.
    public mutating func flush() {
        while heldCount > 0 {
            skipToNextHeld()
            releaseContiguous()
        }
    }

    /// The next element or gap in sequence order, or nil when nothing more is released yet.
    public mutating func poll() -> Output? {
        outputs.poll()
    }

    /// The next element in sequence order, passing over gaps (they are still counted in
    /// ``Counters/lost``), or nil when nothing more is released yet.
    public mutating func pollDelivery() -> Element? {
        while let output = poll() {
            if case .delivered(_, let element) = output { return element }
        }
        return nil
    }

    // MARK: - Moving the window

    /// Moves past the numbers up to the next held element (which becomes `expected`), declaring them lost.
    private mutating func skipToNextHeld() {
        guard heldCount > 0 else { return }
        var gap = 0
        while slots[(head + gap) % capacity] == nil { gap += 1 }
        skip(gap)
    }

    /// Moves the window `steps` numbers forward, delivering held elements and declaring the rest lost.
    private mutating func skip(_ steps: Int) {
        guard var number = expected, steps > 0 else { return }
        var lostRun: (first: SequenceNumber, count: Int)?
        let inWindow = min(steps, capacity)
        for _ in 0..<inWindow {
            if let slot = slots[head] {
                if let run = lostRun { emitLost(run) }
                lostRun = nil
                deliver(slot, number)
            } else {
                lostRun = (lostRun?.first ?? number, (lostRun?.count ?? 0) + 1)
                setHistory(number, delivered: false)
            }
            head = (head + 1) % capacity
            number += 1
        }
        let beyond = steps - inWindow
        if beyond > 0 {
            // The numbers beyond the window were never held: all lost, without visiting each one.
            lostRun = (lostRun?.first ?? number, (lostRun?.count ?? 0) + beyond)
            if beyond >= history.count * 64 {
                for word in history.indices { history[word] = 0 }
            } else {
                for k in 0..<beyond { setHistory(number.advanced(by: k), delivered: false) }
            }
            number = number.advanced(by: beyond)
        }
        if let run = lostRun { emitLost(run) }
        expected = number
        refreshOldestArrival()
    }

    /// Delivers held elements from `expected` on until the first gap.
    private mutating func releaseContiguous() {
        guard var number = expected else { return }
        var released = false
        while let slot = slots[head] {
            deliver(slot, number)
            head = (head + 1) % capacity
            number += 1
            released = true
        }
        expected = number
        if released { refreshOldestArrival() }
    }

    private mutating func deliver(_ slot: Slot, _ number: SequenceNumber) {
        slots[head] = nil
        heldCount -= 1
        counters.delivered += 1
        setHistory(number, delivered: true)
        outputs.append(.delivered(number, slot.element))
    }

    private mutating func emitLost(_ run: (first: SequenceNumber, count: Int)) {
        counters.lost += run.count
        outputs.append(.lost(first: run.first, count: run.count))
    }

    /// Recomputes the earliest arrival among held elements after some left: O(capacity), paid only when
    /// elements are released while others still wait, and only with a hole timeout.
    private mutating func refreshOldestArrival() {
        guard holeTimeout != nil else { return }
        guard heldCount > 0 else {
            oldestArrival = nil
            return
        }
        var oldest: MonotonicInstant?
        var seen = 0
        for slot in slots {
            guard let slot else { continue }
            if oldest == nil || slot.arrival < oldest! { oldest = slot.arrival }
            seen += 1
            if seen == heldCount { break }
        }
        oldestArrival = oldest
    }

    // MARK: - History

    private func wasDelivered(_ number: SequenceNumber) -> Bool {
        let bit = number.rawValue & historyMask
        return history[Int(bit / 64)] & (1 << (bit % 64)) != 0
    }

    private mutating func setHistory(_ number: SequenceNumber, delivered: Bool) {
        let bit = number.rawValue & historyMask
        if delivered {
            history[Int(bit / 64)] |= 1 << (bit % 64)
        } else {
            history[Int(bit / 64)] &= ~(1 << (bit % 64))
        }
    }
}

extension ReorderBuffer: Sendable where Element: Sendable {}
extension ReorderBuffer.Output: Sendable where Element: Sendable {}
extension ReorderBuffer.Slot: Sendable where Element: Sendable {}
extension ReorderBuffer.Output: Equatable where Element: Equatable {}
