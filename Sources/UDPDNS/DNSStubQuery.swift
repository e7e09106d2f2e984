import UDP
import UDPPatterns

/// The machine of `udp dns`: one query, as a stub resolver asks it, retried on a `RetryPolicy`, sans-I/O.
///
/// Every try is a new query: a new random id, drawn from the injected generator, sent from a socket of its own
/// (try *n* from the driver's socket *n − 1*, so ``socketsNeeded`` sockets bound to port 0: a random source port
/// from the kernel for each, RFC 5452 §9.2, §10). Try *n* goes to `servers[(n − 1) % servers.count]`, so with
/// several servers the tries rotate among them. The sockets of earlier tries stay in the run, so a slow answer
/// to the first try still counts while the second waits. A datagram is the reply only when ``DNSReplyFilter``
/// says so; everything else is counted in ``ignored`` by reason and dropped. An ICMP error for a try (the
/// server's port unreachable, a router's network unreachable) ends that try at once, and when every try so far
/// has ended so, the next one goes without waiting out the timeout, as dig does; but only when it is about a
/// datagram to the try's server and quotes the try's id, else it is counted in ``ignored`` too and the try
/// waits on.
///
/// ```swift
/// let question = DNSQuestion(name: DNSName("example.test")!, type: .mx)
/// var query = DNSStubQuery(server: try SocketAddress(parsing: "198.18.0.53:53"), question: question)
/// let sockets = try (0..<query.socketsNeeded).map { _ in SharedUDPSocket(try UDPSocket(bindingTo: .any(.inet))) }
/// try MachineDriver(stop: stop).run(&query, on: sockets) { print($0) }
/// if case .answered(let answer)? = query.outcome { print(answer.reply.message.answers.map(\.presentation)) }
/// ```
public struct DNSStubQuery: DatagramMachine, Sendable {
    /// What happened, in order.
    public enum Event: Sendable {
        /// Try `attempt` (from 1) went out with this id from the driver's socket `socket`, `size` bytes.
        case sent(attempt: Int, id: UInt16, socket: Int, size: Int)
        /// A datagram of `length` bytes from `sender` that was not the reply, and why; or an ICMP error that
        /// did not count (an `icmp` reason), with its sender at port 0 and the length of its quote.
        case ignored(sender: SocketAddress, length: Int, reason: DNSIgnoredReason)
        /// An ICMP error for try `attempt`, naming who sent it; that try is over.
        case deliveryError(DeliveryError, attempt: Int)
    }

    /// How the query ended.
    public enum Outcome: Sendable {
        /// A reply passed ``DNSReplyFilter``, whatever its response code: NXDOMAIN, SERVFAIL and REFUSED are
        /// answers too.
        case answered(Answer)
        /// Every try went unanswered; `lastError` is the ICMP error that ended the last one, if any.
        case noReply(tries: Int, lastError: DeliveryError?)
        /// The kernel refused to send try `attempt` (no route to the server): the query cannot go on.
        case sendFailed(UDPError, attempt: Int)
    }

    /// The reply, and when and to which try it came.
    public struct Answer: Sendable {
        /// The reply, decoded.
        public var reply: DNSReply
        /// The server it came from.
        public var server: SocketAddress
        /// Which try it answered, from 1.
        public var attempt: Int
        /// From that try's send to the reply's receipt, by the instants the machine was told.
        public var roundTrip: Duration
    }

    /// The events the machine holds for ``pollEvent()`` at most; more are dropped (the counts keep them).
    public static let eventLimit = 64

    /// Where the tries go, in turn.
    public let servers: [SocketAddress]
    /// What the query asks: a name, a type and a class.
    public let question: DNSQuestion
    /// RD: ask the server to recurse.
    public let recursionDesired: Bool
    /// The OPT record to send, or nil for a plain RFC 1035 query.
    public let edns: EDNS?
    /// How many tries, and how long each waits for its reply (`RetryPolicy` of UDPPatterns).
    public let policy: RetryPolicy
    /// Datagrams (and ICMP errors) dropped so far, by reason.
    public private(set) var ignored = DNSIgnoredCounts()
    /// Tries sent so far.
    public private(set) var triesSent = 0
    /// How the query ended; nil while it runs (and when its driver was stopped first).
    public private(set) var outcome: Outcome?
    /// Datagrams handed to the machine while it ran.
    public private(set) var datagramsReceived = 0
    /// ICMP errors handed to the machine while it ran.
    public private(set) var deliveryErrorsReceived = 0
    /// Datagrams and ICMP errors for a try an ICMP error had already ended: dropped uncounted by reason, as
    /// the try's socket is done with.
    public private(set) var droppedAfterFailure = 0
    /// ICMP errors believed, each of which ended a try.
    public private(set) var triesEndedByError = 0
    /// Events dropped because ``eventLimit`` were waiting.
    public private(set) var eventsDropped = 0

    /// One try in flight: where it went, its filter, and when.
    private struct Try: Sendable {
        let server: SocketAddress
        let filter: DNSReplyFilter
        let attempt: Int
        let sentAt: MonotonicInstant
        var failed = false
        var socket: Int { attempt - 1 }
    }

    private var tries: [Try] = []
    // The tries' waits and the overall deadline, from the first try's send: UDPPatterns' schedule, the one
    // `udp send --framed` follows too.
    private var schedule: RetrySchedule?
    private var sendDue = true
    private var lastError: DeliveryError?
    private var events: [Event] = []
    // Internal: DNSPingSession lends its generator to each query and takes it back.
    var generator: any RandomNumberGenerator & Sendable

    /// A query to `servers`, tried in turn.
    ///
    /// - Parameters:
    ///   - servers: The servers' addresses and ports (53 for DNS); try *n* goes to the *n*-th, modulo their number.
    ///   - question: What to ask.
    ///   - recursionDesired: RD, on for a stub resolver; off asks an authoritative answer only (`dig +norec`).
    ///   - edns: The OPT record, by default EDNS(0) with a 1232-byte payload size (DNS Flag Day 2020).
    ///   - policy: Tries and their waits: by default 3 tries, waiting 2, 4 and 8 seconds.
    ///   - generator: Where the ids (and any jitter) come from: the system's, unpredictable, unless a test
    ///     injects a seeded one.
    public init(
        servers: [SocketAddress],
        question: DNSQuestion,
        recursionDesired: Bool = true,
        edns: EDNS? = EDNS(),
        policy: RetryPolicy = RetryPolicy(attempts: 3, timeout: .seconds(2), backoff: 2),
        generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        precondition(!servers.isEmpty, "a query needs a server to ask")
        self.servers = servers
        self.question = question
        self.recursionDesired = recursionDesired
        self.edns = edns
        self.policy = policy
        self.generator = generator
    }

    /// A query to one server.
    ///
    /// - Parameters:
    ///   - server: The server's address and port (53 for DNS).
    ///   - question: What to ask.
    ///   - recursionDesired: RD, on for a stub resolver; off asks an authoritative answer only (`dig +norec`).
    ///   - edns: The OPT record, by default EDNS(0) with a 1232-byte payload size (DNS Flag Day 2020).
    ///   - policy: Tries and their waits: by default 3 tries, waiting 2, 4 and 8 seconds.
    ///   - generator: Where the ids come from; the system's unless a test injects a seeded one.
    public init(
        server: SocketAddress,
        question: DNSQuestion,
        recursionDesired: Bool = true,
        edns: EDNS? = EDNS(),
        policy: RetryPolicy = RetryPolicy(attempts: 3, timeout: .seconds(2), backoff: 2),
        generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.init(
            servers: [server],
            question: question,
            recursionDesired: recursionDesired,
            edns: edns,
            policy: policy,
            generator: generator
        )
    }

    /// The first server: the only one, unless several were given.
    public var server: SocketAddress { servers[0] }

    /// The sockets the driver must run the machine on: one per try.
    public var socketsNeeded: Int { policy.attempts }

    /// True once ``outcome`` is known.
    public var isFinished: Bool { outcome != nil }

    /// The end of the latest try's wait, or the policy's overall deadline if sooner.
    public var nextDeadline: MonotonicInstant? {
        guard outcome == nil else { return nil }
        return schedule?.nextDeadline
    }

    /// The next try, when one is due: a new id, to the next server, from the next socket.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        guard outcome == nil, sendDue, tries.count < policy.attempts else { return nil }
        var schedule = self.schedule ?? RetrySchedule(policy: policy, start: now)
        sendDue = false
        let attempt = tries.count + 1
        let server = servers[(attempt - 1) % servers.count]
        let query = DNSMessage.query(
            id: UInt16.random(in: .min ... .max, using: &generator),
            question: question,
            recursionDesired: recursionDesired,
            edns: edns
        )
        let bytes: [UInt8]
        do { bytes = try query.encoded() } catch { preconditionFailure("one question always encodes: \(error)") }
        tries.append(
            Try(server: server, filter: DNSReplyFilter(server: server, query: query), attempt: attempt, sentAt: now)
        )
        triesSent = attempt
        // The id is drawn first, then the wait's jitter: the order the seeded tests and fuzz corpora pin. An
        // ICMP error may have made this try due before the last wait ended; its wait counts from now all the same.
        schedule.recordAttempt(now: now, using: &generator)
        self.schedule = schedule
        return OutboundDatagram(bytes, to: server, socket: attempt - 1)
    }

    /// The next event, or nil.
    public mutating func pollEvent() -> Event? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// The latest try's wait ran out (or the overall deadline passed): the next try, or no reply.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        guard outcome == nil, let schedule else { return }
        switch schedule.decision(now: now) {
        case .wait:
            break
        case .send:
            sendDue = true
        case .giveUp:
            // Out of tries, or past the overall deadline: for a stub resolver both are no reply.
            outcome = .noReply(tries: triesSent, lastError: lastError)
        }
    }

    /// A datagram on a try's socket: the reply when it passes that try's ``DNSReplyFilter``, else counted.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        guard outcome == nil else { return }
        datagramsReceived += 1
        guard let index = tries.firstIndex(where: { $0.socket == datagram.socket }) else {
            // A socket no try has used yet: no query went from it, so nothing can be its reply.
            let fromServer = servers.contains { datagram.sender.isSameEndpoint(as: $0) }
            ignore(fromServer ? .wrongID : .wrongSource, sender: datagram.sender, length: datagram.info.length)
            return
        }
        guard !tries[index].failed else {
            droppedAfterFailure += 1
            return
        }
        switch tries[index].filter.check(datagram.payload, from: datagram.sender) {
        case .reply(let reply):
            let attempt = tries[index]
            outcome = .answered(
                Answer(
                    reply: reply,
                    server: attempt.server,
                    attempt: attempt.attempt,
                    roundTrip: attempt.sentAt.duration(to: now)
                )
            )
        case .ignored(let reason):
            ignore(reason, sender: datagram.sender, length: datagram.info.length)
        }
    }

    /// An ICMP error on a try's socket: it ends the try only when the try's filter believes it; when every
    /// try so far has ended so, the next goes now, or the query ends with no reply.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        guard outcome == nil else { return }
        deliveryErrorsReceived += 1
        let sender = SocketAddress(error.offender ?? error.destination.ip, port: 0)
        guard let index = tries.firstIndex(where: { $0.socket == socket }) else {
            let toServer = servers.contains { error.destination.isSameEndpoint(as: $0) }
            ignore(toServer ? .icmpWrongID : .icmpWrongDestination, sender: sender, length: error.quotedPayload.count)
            return
        }
        guard !tries[index].failed else {
            droppedAfterFailure += 1
            return
        }
        if let reason = tries[index].filter.check(error) {
            ignore(reason, sender: sender, length: error.quotedPayload.count)
            return
        }
        tries[index].failed = true
        triesEndedByError += 1
        lastError = error
        emit(.deliveryError(error, attempt: tries[index].attempt))
        guard tries.allSatisfy(\.failed) else { return }
        if tries.count < policy.attempts {
            sendDue = true
        } else {
            outcome = .noReply(tries: triesSent, lastError: lastError)
        }
    }

    /// A try left (reported as sent), or the kernel refused it, which ends the query.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        switch report {
        case .sent(let datagram, let socket, _, _):
            guard let attempt = tries.first(where: { $0.socket == socket }) else { return }
            emit(.sent(attempt: attempt.attempt, id: attempt.filter.id, socket: socket, size: datagram.payload.count))
        case .failed(_, let socket, let error):
            guard outcome == nil else { return }
            outcome = .sendFailed(error, attempt: socket + 1)
        case .kernelTimestamp:
            break
        }
    }

    private mutating func ignore(_ reason: DNSIgnoredReason, sender: SocketAddress, length: Int) {
        ignored.record(reason)
        emit(.ignored(sender: sender.unmapped, length: length, reason: reason))
    }

    private mutating func emit(_ event: Event) {
        guard events.count < Self.eventLimit else {
            eventsDropped += 1
            return
        }
        events.append(event)
    }
}
