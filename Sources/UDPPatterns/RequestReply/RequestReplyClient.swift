import UDP

/// Runs many concurrent requests over one socket, sans-I/O: frames each request with a request id, sends
/// and resends it on its ``RetryPolicy``, matches each reply to its request by that id, and gives up with a
/// typed ``RequestError``. It holds no socket and reads no clock; the caller passes datagrams and `now`, a
/// `MonotonicInstant` (`MonotonicInstant.now()` on a socket, `.zero + .milliseconds(n)` in a test), as
/// quinn-proto's `Connection` is driven:
///
/// ```swift
/// var client = RequestReplyClient(policy: RetryPolicy(attempts: 4, timeout: .milliseconds(200)))
/// let id = try client.start(payload, now: .now())                 // queued; nothing sent yet
/// while true {
///     while let transmit = client.pollTransmit(now: .now()) { try socket.send(transmit.bytes, to: server) }
///     while let event = client.pollEvent() { report(event) }      // .failed(id, .noReply(attempts: 4))
///     guard let wake = client.nextDeadline else { break }         // nothing outstanding
///     if let reply = try socket.receive(timeout: wake - .now()) {
///         if case .completed(let id, let payload) = client.handleDatagram(reply.payload, now: .now()) { … }
///     } else {
///         client.handleTimeout(now: .now())
///     }
/// }
/// ```
///
/// Replies are accepted only when they carry the id of an outstanding request, so a reply is never handed
/// to the wrong caller. A reply for a request that already completed is counted as a duplicate, one for a
/// request that failed or was cancelled as late, and either is dropped. Request ids start at a random
/// value and count up, skipping any still in use; the ids of recently finished requests are remembered (up
/// to `rememberedRequests`) to tell duplicates from late replies, and any id issued before counts as late
/// rather than unknown.
///
/// Memory is bounded by `maximumOutstanding` requests, `rememberedRequests` finished ids, and the
/// failures waiting in ``pollEvent()``.
public struct RequestReplyClient: Sendable {
    /// Why ``start(_:now:)`` refused a request.
    public enum StartError: Error, Sendable, Hashable, CustomStringConvertible {
        /// `maximumOutstanding` requests are already in flight.
        case tooManyOutstanding(limit: Int)
        /// The framed request would exceed the client's ``DatagramBudget``.
        case exceedsBudget(DatagramBudget.Exceeded)

        /// A sentence for people: `too many outstanding requests (the limit is 1024)`.
        public var description: String {
            switch self {
            case .tooManyOutstanding(let limit): "too many outstanding requests (the limit is \(limit))"
            case .exceedsBudget(let error): error.description
            }
        }
    }

    /// One datagram to send now.
    public struct Transmit: Sendable, Hashable {
        /// The framed request.
        public var bytes: [UInt8]
        /// The request it carries.
        public var requestID: RequestID
        /// Which attempt this is, from 1.
        public var attempt: Int
        /// The frame's sequence number: one per datagram sent, echoed in the reply.
        public var sequence: SequenceNumber
    }

    /// What the client has done and seen.
    public struct Counters: Sendable, Hashable {
        /// Requests accepted by ``RequestReplyClient/start(_:now:)``.
        public var started = 0
        /// Requests answered.
        public var completed = 0
        /// Requests that gave up.
        public var failed = 0
        /// Requests cancelled by the caller.
        public var cancelled = 0
        /// Datagrams handed out by ``RequestReplyClient/pollTransmit(now:)``.
        public var transmitted = 0
        /// Of those, attempts after the first.
        public var retransmitted = 0
        /// Replies to requests already answered.
        public var duplicates = 0
        /// Replies to requests that had failed or been cancelled.
        public var late = 0
        /// Replies with ids never issued (or long forgotten).
        public var unknown = 0
        /// Datagrams that were not well-formed replies.
        public var malformed = 0

        /// All zero.
        public init() {}
    }

    private enum Outcome: Sendable {
        case completed
        case ended
    }

    private struct Outstanding: Sendable {
        var payload: [UInt8]
        var schedule: RetrySchedule
        // The deadline of this request's live heap entry, if it has one.
        var timer: MonotonicInstant?
        // Whether it waits in the transmit queue for its next attempt.
        var queued = true
    }

    /// How requests are retried.
    public let policy: RetryPolicy
    /// The largest request datagram ``start(_:now:)`` accepts.
    public let budget: DatagramBudget
    /// Requests in flight at most; ``start(_:now:)`` refuses more.
    public let maximumOutstanding: Int
    /// What the client has done and seen so far.
    public private(set) var counters = Counters()

    private var generator: any RandomNumberGenerator & Sendable
    private var requests: [RequestID: Outstanding] = [:]
    // Requests due for an attempt, in the order they fell due. Unbounded: it holds at most one live entry per
    // request in flight (``maximumOutstanding``), and `discardStaleTimers()` sweeps out those that ended.
    private var transmitQueue = MachineQueue<RequestID>()
    private var timers = DeadlineHeap<MonotonicInstant, RequestID>()
    private var events = MachineQueue<ClientEvent>()
    private var finished: BoundedMemory<RequestID, Outcome>
    private let firstID: RequestID
    private var issued: UInt64 = 0
    private var nextSequence: SequenceNumber = 0

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - policy: Attempts, waits, backoff, jitter and deadline of every request.
    ///   - budget: The largest request datagram, frame header included.
    ///   - maximumOutstanding: Requests in flight at most.
    ///   - rememberedRequests: Finished request ids remembered to classify stray replies.
    ///   - generator: Randomness for the first request id and for jitter; pass a seeded generator for
    ///     reproducible tests.
    public init(
        policy: RetryPolicy,
        budget: DatagramBudget = .internet,
        maximumOutstanding: Int = 1024,
        rememberedRequests: Int = 4096,
        generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        precondition(maximumOutstanding >= 1, "maximumOutstanding must be at least 1")
        self.policy = policy
        self.budget = budget
        self.maximumOutstanding = maximumOutstanding
        self.finished = BoundedMemory(capacity: rememberedRequests)
        var generator = generator
        self.firstID = RequestID(generator.next())
        self.generator = generator
    }

    /// Requests in flight.
    public var outstandingCount: Int { requests.count }

    /// Whether `id` is in flight.
    public func isOutstanding(_ id: RequestID) -> Bool { requests[id] != nil }

    /// When ``handleTimeout(now:)`` should next run: the earliest end of a wait, or overall deadline, among
    /// the requests in flight; nil when none is waiting (a request queued for ``pollTransmit(now:)`` is not
    /// waiting: poll it).
    public var nextDeadline: MonotonicInstant? { timers.first?.deadline }

    /// Starts a request. Nothing is sent until ``pollTransmit(now:)``.
    ///
    /// - Parameters:
    ///   - payload: The request's bytes, framed with a request id on the way out.
    ///   - now: The current time; the policy's deadline counts from here.
    /// - Returns: The request's id, which its ``ClientEvent/completed(_:_:)`` or ``ClientEvent/failed(_:_:)``
    ///   names.
    /// - Throws: ``StartError``: too many requests in flight, or a request too large for the budget.
    public mutating func start(_ payload: [UInt8], now: MonotonicInstant) throws(StartError) -> RequestID {
        guard requests.count < maximumOutstanding else { throw .tooManyOutstanding(limit: maximumOutstanding) }
        do {
            try budget.check(payloadSize: payload.count)
        } catch {
            throw .exceedsBudget(error)
        }
        let id = makeID()
        var request = Outstanding(payload: payload, schedule: RetrySchedule(policy: policy, start: now))
        // The deadline runs even while the first attempt waits to be polled.
        if let deadline = request.schedule.overallDeadline {
            request.timer = deadline
            timers.insert(id, at: deadline)
        }
        requests[id] = request
        transmitQueue.append(id)
        counters.started += 1
        return id
    }

    /// The next datagram to send now, or nil when none is due. Call it until nil after ``start(_:now:)``
    /// and ``handleTimeout(now:)``.
    ///
    /// A request whose deadline passed while it waited here fails instead (see ``pollEvent()``).
    public mutating func pollTransmit(now: MonotonicInstant) -> Transmit? {
        while let id = transmitQueue.poll() {
            guard var request = requests[id], request.queued else { continue }  // ended while queued
            request.queued = false
            switch request.schedule.decision(now: now) {
            case .send(let attempt):
                let deadline = request.schedule.recordAttempt(now: now, using: &generator)
                request.timer = deadline
                timers.insert(id, at: deadline)
                requests[id] = request
                discardStaleTimers()
                let sequence = nextSequence
                nextSequence += 1
                counters.transmitted += 1
                if attempt > 1 { counters.retransmitted += 1 }
                let frame = Frame(header: FrameHeader(sequence: sequence, requestID: id), payload: request.payload)
                // start() checked the payload against a budget below the frame's 64 KiB limit.
                let bytes = try! frame.encoded()
                return Transmit(bytes: bytes, requestID: id, attempt: attempt, sequence: sequence)
            case .giveUp(let error):
                fail(id, error)
            case .wait:
                requests[id] = request  // cannot happen: only requests due are queued
            }
        }
        return nil
    }

    /// Takes one datagram from the socket.
    ///
    /// - Returns: ``ClientEvent/completed(_:_:)`` when it answers a request in flight (which then ends),
    ///   ``ClientEvent/ignored(_:)`` otherwise, counted in ``counters`` by reason.
    @discardableResult
    public mutating func handleDatagram(_ datagram: some Collection<UInt8>, now: MonotonicInstant) -> ClientEvent {
        guard let frame = try? Frame(decoding: datagram), frame.header.isReply, let id = frame.header.requestID
        else {
            counters.malformed += 1
            return .ignored(.malformed)
        }
        if requests.removeValue(forKey: id) != nil {
            finished.insert(.completed, for: id)
            counters.completed += 1
            discardStaleTimers()
            return .completed(id, frame.payload)
        }
        switch finished[id] {
        case .completed:
            counters.duplicates += 1
            return .ignored(.duplicate)
        case .ended:
            counters.late += 1
            return .ignored(.late)
        case nil where id.rawValue &- firstID.rawValue < issued:
            // Issued by this client, but finished too long ago to be remembered: it cannot be current.
            counters.late += 1
            return .ignored(.late)
        case nil:
            counters.unknown += 1
            return .ignored(.unknown)
        }
    }

    /// Acts on every wait and deadline that has passed by `now`: queues the next attempt for
    /// ``pollTransmit(now:)``, or fails the request (see ``pollEvent()``).
    public mutating func handleTimeout(now: MonotonicInstant) {
        while let (deadline, id) = timers.first, deadline <= now {
            _ = timers.removeFirst()
            // Ignore entries left behind by answered, cancelled or rescheduled requests.
            guard var request = requests[id], request.timer == deadline else { continue }
            request.timer = nil
            switch request.schedule.decision(now: now) {
            case .send:
                request.queued = true
                requests[id] = request
                transmitQueue.append(id)
            case .giveUp(let error):
                fail(id, error)
            case .wait(let until):
                // Not due after all (the deadline entry of a request already sent): keep watching.
                request.timer = until
                timers.insert(id, at: until)
                requests[id] = request
            }
        }
        discardStaleTimers()
    }

    /// The next failure, in the order they happened, or nil. Completions come back from
    /// ``handleDatagram(_:now:)`` directly.
    public mutating func pollEvent() -> ClientEvent? {
        events.poll()
    }

    /// Abandons a request: nothing more is sent for it, no event reports it, and a reply that still comes
    /// is counted as late.
    ///
    /// - Returns: Whether it was in flight.
    @discardableResult
    public mutating func cancel(_ id: RequestID) -> Bool {
        guard requests.removeValue(forKey: id) != nil else { return false }
        finished.insert(.ended, for: id)
        counters.cancelled += 1
        discardStaleTimers()
        return true
    }

    /// Pops timers left behind by requests that ended or moved on, so the top of the heap, and with it
    /// ``nextDeadline``, is always live; and, when stale entries outnumber live ones, sweeps them out of the
    /// heap and the transmit queue, so memory follows the requests in flight rather than the request rate.
    /// Called after every change to a request's timer.
    private mutating func discardStaleTimers() {
        while let (deadline, id) = timers.first, requests[id]?.timer != deadline {
            _ = timers.removeFirst()
        }
        if timers.count > 2 * requests.count + 64 {
            timers.removeAll { requests[$0.element]?.timer != $0.deadline }
        }
        if transmitQueue.count > 2 * requests.count + 64 {
            transmitQueue.removeAll { requests[$0]?.queued != true }
        }
    }

    private mutating func fail(_ id: RequestID, _ error: RequestError) {
        requests[id] = nil
        finished.insert(.ended, for: id)
        counters.failed += 1
        events.append(.failed(id, error))
        discardStaleTimers()
    }

    /// The next id after the last one issued that is neither in flight nor remembered as finished: after
    /// 2⁶⁴ requests the count wraps, and must not hand out an id a stray reply could still answer.
    private mutating func makeID() -> RequestID {
        while true {
            let id = RequestID(firstID.rawValue &+ issued)
            issued &+= 1
            if requests[id] == nil && finished[id] == nil { return id }
        }
    }
}
