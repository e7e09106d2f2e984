import UDP
import UDPPatterns

/// The machine of `udp dns --count`: the same query every interval, as dnsping sends it, each a
/// ``DNSStubQuery`` of one try (a retry would hide the loss a probe is there to measure), sans-I/O.
///
/// Only one query is in flight at a time: query *n* starts at the later of its predecessor's start plus
/// ``interval`` and its predecessor's end, so two starts are never closer than ``interval``. Queries take the
/// driver's ``socketCount`` sockets in turn, so each goes from another port than the one before; a datagram or
/// ICMP error on a socket the query in flight does not use (a reply to a query already counted lost) is dropped
/// and counted in ``staleDatagrams`` only, as the closed socket of a finished query would have dropped it.
///
/// ```swift
/// var session = DNSPingSession(server: server, question: question, count: 10, interval: .seconds(1),
///                              timeout: .seconds(2))
/// let sockets = try (0..<DNSPingSession.socketCount).map { _ in SharedUDPSocket(try UDPSocket(bindingTo: .any(.inet))) }
/// try MachineDriver(stop: stop).run(&session, on: sockets) { print($0) }
/// session.stop()   // after a stop signal: the query in flight counts as lost
/// ```
public struct DNSPingSession: DatagramMachine, Sendable {
    /// What happened, in order.
    public enum Event: Sendable {
        /// Query `sequence` (from 1) was answered.
        case answered(sequence: Int, DNSStubQuery.Answer)
        /// Query `sequence` had no reply within the timeout (or an ICMP error ended it: `lastError`).
        case lost(sequence: Int, lastError: DeliveryError?)
        /// Something about query `sequence`, as ``DNSStubQuery`` reports it.
        case query(sequence: Int, DNSStubQuery.Event)
    }

    /// The sockets a session runs on: queries take them in turn.
    public static let socketCount = 2
    /// The events the machine holds for ``pollEvent()`` at most; more are dropped (the counts keep them).
    public static let eventLimit = 64

    /// The server every query goes to, with its port (53 for DNS).
    public let server: SocketAddress
    /// What every query asks: a name, a type and a class.
    public let question: DNSQuestion
    /// Queries to send; 0 sends until stopped.
    public let count: Int
    /// From one query's start to the next's.
    public let interval: Duration
    /// How long each query waits for its reply.
    public let timeout: Duration
    /// Whether every query sets RD, asking the server to recurse.
    public let recursionDesired: Bool
    /// The OPT record every query carries; nil leaves EDNS(0) out.
    public let edns: EDNS?
    /// Datagrams (and ICMP errors) dropped by the queries' filters, by reason, over every query.
    public private(set) var ignored = DNSIgnoredCounts()
    /// The last reply, for its response code and records.
    public private(set) var lastAnswer: DNSStubQuery.Answer?
    /// Queries over (answered or lost), and the one in flight once ``stop()`` counts it.
    public private(set) var sent = 0
    /// Queries answered.
    public private(set) var received = 0
    /// Queries unanswered within the timeout, ended by an ICMP error, or in flight at ``stop()``.
    public private(set) var lost = 0
    /// ICMP errors that ended a query.
    public private(set) var icmpErrors = 0
    /// Bytes in each query on the wire (the last one sent).
    public private(set) var querySize = 0
    /// Datagrams and ICMP errors on a socket the query in flight does not use, or between queries.
    public private(set) var staleDatagrams = 0
    /// The kernel's refusal to send a query (no route to the server), which ends the session.
    public private(set) var sendFailure: UDPError?
    /// Events dropped because ``eventLimit`` were waiting.
    public private(set) var eventsDropped = 0

    private var sequence = 0
    private var current: DNSStubQuery?
    private var nextStart: MonotonicInstant?
    private var events = MachineQueue<Event>(limit: Self.eventLimit)
    private var generator: any RandomNumberGenerator & Sendable

    /// - Parameters:
    ///   - server: The server's address and port.
    ///   - question: What every query asks.
    ///   - count: Queries to send; 0 sends until stopped.
    ///   - interval: From one query's start to the next's; a query that takes longer delays the next, as only
    ///     one is in flight at a time.
    ///   - timeout: How long each query waits for its reply before it counts as lost (above zero).
    ///   - recursionDesired: Sets RD in every query.
    ///   - edns: The OPT record every query carries; nil leaves EDNS(0) out.
    ///   - generator: Where the ids come from; the system's unless a test injects a seeded one.
    public init(
        server: SocketAddress,
        question: DNSQuestion,
        count: Int,
        interval: Duration,
        timeout: Duration,
        recursionDesired: Bool = true,
        edns: EDNS? = EDNS(),
        generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        precondition(count >= 0 && timeout > .zero && interval >= .zero)
        self.server = server
        self.question = question
        self.count = count
        self.interval = interval
        self.timeout = timeout
        self.recursionDesired = recursionDesired
        self.edns = edns
        self.generator = generator
    }

    /// The sequence number of the query in flight; nil between queries.
    public var inFlight: Int? { current == nil ? nil : sequence }

    /// True once ``count`` queries are over, or a send failed.
    public var isFinished: Bool {
        sendFailure != nil || (count > 0 && sequence >= count && current == nil)
    }

    /// The query in flight's deadline, or the next query's start.
    public var nextDeadline: MonotonicInstant? {
        guard !isFinished else { return nil }
        if let current { return current.nextDeadline }
        return nextStart
    }

    /// Ends the session where it stands, after its driver was stopped: the query in flight counts as sent and
    /// lost, with no event, as `udp ping` counts its own.
    public mutating func stop() {
        guard let query = current else { return }
        current = nil
        ignored += query.ignored
        sent += 1
        lost += 1
    }

    /// The query in flight's datagram; or, when the next query is due, its start.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        guard !isFinished else { return nil }
        if current == nil {
            guard count == 0 || sequence < count else { return nil }
            let scheduled = nextStart ?? now
            guard now >= scheduled else { return nil }
            sequence += 1
            // From this query's start, on time or late: a late start (its predecessor outlasted the interval)
            // shifts the schedule rather than letting the next query follow at once to catch up.
            nextStart = max(scheduled, now) + interval
            current = DNSStubQuery(
                server: server,
                question: question,
                recursionDesired: recursionDesired,
                edns: edns,
                policy: RetryPolicy(attempts: 1, timeout: timeout),
                // The session's generator goes with the query and comes back when it ends: one sequence of ids.
                generator: generator
            )
        }
        guard var datagram = current?.pollTransmit(at: now) else { return nil }
        datagram.socket = socket
        return datagram
    }

    /// The next event, or nil.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    /// The query in flight's wait ran out; between queries, the next one's start (which the next
    /// ``pollTransmit(at:)`` sends).
    public mutating func handleTimeout(at now: MonotonicInstant) {
        guard current != nil else { return }
        current?.handleTimeout(at: now)
        settle()
    }

    /// A datagram: the query in flight's when it came to that query's socket.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        guard current != nil, datagram.socket == socket else {
            staleDatagrams += 1
            return
        }
        var inner = datagram
        inner.socket = 0
        current?.handleDatagram(inner, at: now)
        settle()
    }

    /// An ICMP error: the query in flight's when it came to that query's socket.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        guard current != nil, socket == self.socket else {
            staleDatagrams += 1
            return
        }
        current?.handleDeliveryError(error, socket: 0, at: now)
        settle()
    }

    /// What became of the query in flight's datagram.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        guard current != nil else { return }
        switch report {
        case .sent(let datagram, let socket, let sentAt, let stampID) where socket == self.socket:
            current?.handleSendReport(.sent(datagram, socket: 0, sentAt: sentAt, stampID: stampID), at: now)
        case .failed(let datagram, let socket, let error) where socket == self.socket:
            current?.handleSendReport(.failed(datagram, socket: 0, error: error), at: now)
        default:
            return
        }
        settle()
    }

    /// The socket of the query in flight.
    private var socket: Int { (sequence - 1) % Self.socketCount }

    /// Hands on the query's events, and when it is over counts it and lets the next one be scheduled.
    private mutating func settle() {
        guard var query = current else { return }
        while let event = query.pollEvent() {
            if case .sent(_, _, _, let size) = event { querySize = size }
            if case .deliveryError = event { icmpErrors += 1 }
            emit(.query(sequence: sequence, event))
        }
        current = query
        guard let outcome = query.outcome else { return }
        current = nil
        generator = query.generator
        ignored += query.ignored
        switch outcome {
        case .answered(let answer):
            sent += 1
            received += 1
            lastAnswer = answer
            emit(.answered(sequence: sequence, answer))
        case .noReply(_, let lastError):
            sent += 1
            lost += 1
            emit(.lost(sequence: sequence, lastError: lastError))
        case .sendFailed(let error, _):
            sendFailure = error
        }
    }

    private mutating func emit(_ event: Event) {
        if !events.append(event) { eventsDropped += 1 }
    }
}
