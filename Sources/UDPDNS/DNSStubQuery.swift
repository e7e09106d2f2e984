import UDP
import UDPDNS
import UDPPatterns

/// The engine of `udp dns`: one query to one server, as a stub resolver asks it, retried on a `RetryPolicy`.
///
/// Every try is a new query: a new random id and a new socket bound to port 0, so a random source port from
/// the kernel (RFC 5452 §9.2, §10). The sockets of earlier tries stay open until the query ends, so a slow
/// answer to the first try still counts while the second waits. A datagram is the reply only when
/// ``DNSReplyFilter`` says so; everything else is counted in ``ignored`` by reason and dropped. An ICMP error
/// for a try (the server's port unreachable, a router's network unreachable) ends that try at once, and the
/// next one goes without waiting out the timeout, as dig does; but only when it is about a datagram to the
/// server and quotes the try's id, else it is counted in ``ignored`` too and the try waits on.
///
/// ```swift
/// let question = DNSQuestion(name: DNSName("example.test")!, type: .mx)
/// var query = DNSStubQuery(server: try SocketAddress(parsing: "198.18.0.53:53"), question: question)
/// switch try query.run(until: stop, onEvent: { print($0) }) {
/// case .answered(let answer): print(answer.reply.message.answers.map(\.presentation))
/// case .noReply(let tries, let error): print("no reply (\(tries) tries)", error.map { "\($0)" } ?? "")
/// case .stopped: break
/// }
/// ```
public struct DNSStubQuery {
    /// What happened, in order.
    public enum Event: Sendable {
        /// Try `attempt` (from 1) went out with this id from this local address.
        case sent(attempt: Int, id: UInt16, source: SocketAddress, size: Int)
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
        /// The stop signal was raised first.
        case stopped
    }

    /// The reply, and when and to which try it came.
    public struct Answer: Sendable {
        /// The reply, decoded.
        public var reply: DNSReply
        /// The server it came from.
        public var server: SocketAddress
        /// Which try it answered, from 1.
        public var attempt: Int
        /// Nanoseconds from that try's send to the reply's receipt, by this process's monotonic clock.
        public var roundTrip: UInt64
    }

    /// Where the query goes.
    public let server: SocketAddress
    /// What the query asks: a name, a type and a class.
    public let question: DNSQuestion
    /// RD: ask the server to recurse.
    public let recursionDesired: Bool
    /// The OPT record to send, or nil for a plain RFC 1035 query.
    public let edns: EDNS?
    /// How many tries, and how long each waits for its reply (`RetryPolicy` of UDPPatterns).
    public let policy: RetryPolicy
    /// Datagrams dropped so far, by reason.
    public private(set) var ignored = DNSIgnoredCounts()
    /// Tries sent so far.
    public private(set) var triesSent = 0

    /// One try in flight: its socket, what it sent, and when.
    private struct Try {
        let socket: SharedUDPSocket
        let filter: DNSReplyFilter
        let attempt: Int
        let sentAt: UInt64
        var failed = false
    }

    private var tries: [Try] = []
    private var buffer = [UInt8](repeating: 0, count: 65_535)

    /// - Parameters:
    ///   - server: The server's address and port (53 for DNS).
    ///   - question: What to ask.
    ///   - recursionDesired: RD, on for a stub resolver; off asks an authoritative answer only (`dig +norec`).
    ///   - edns: The OPT record, by default EDNS(0) with a 1232-byte payload size (DNS Flag Day 2020).
    ///   - policy: Tries and their waits: by default 3 tries, waiting 2, 4 and 8 seconds.
    public init(
        server: SocketAddress,
        question: DNSQuestion,
        recursionDesired: Bool = true,
        edns: EDNS? = EDNS(),
        policy: RetryPolicy = RetryPolicy(attempts: 3, timeout: .seconds(2), backoff: 2)
    ) {
        self.server = server
        self.question = question
        self.recursionDesired = recursionDesired
        self.edns = edns
        self.policy = policy
    }

    /// Sends the tries and waits for the reply, until it comes, every try has gone unanswered, or `stop` is
    /// requested. Call it once.
    ///
    /// - Throws: `UDPError` when a socket cannot be made or a query cannot be sent (no route to the server).
    public mutating func run(until stop: StopSignal, onEvent: (Event) -> Void) throws(UDPError) -> Outcome {
        var generator = SystemRandomNumberGenerator()
        var schedule = RetrySchedule(policy: policy, start: .now)
        var poll = PollSet()
        var lastError: DeliveryError?
        while !stop.isRequested {
            switch schedule.decision(now: .now) {
            case .send:
                try send(&poll, &generator, onEvent)
                schedule.recordAttempt(now: .now, using: &generator)
            case .wait(let until):
                let deadline = MonotonicClock.now() + MonotonicClock.nanoseconds(until - .now)
                guard try poll.wait(until: deadline, stop: stop) else { continue }
                var readable: [CInt] = []
                poll.forEachReadable { readable.append($0) }
                for descriptor in readable {
                    guard let index = tries.firstIndex(where: { $0.socket.descriptor == descriptor }) else { continue }
                    switch try receive(on: index, &poll, onEvent) {
                    case .answered(let answer)?:
                        return .answered(answer)
                    case .failed(let error)?:
                        lastError = error
                    case nil:
                        break
                    }
                }
                // Every try so far ended in an ICMP error: the next goes now rather than after the wait.
                if tries.allSatisfy(\.failed) {
                    guard schedule.attemptsSent < policy.attempts else {
                        return .noReply(tries: triesSent, lastError: lastError)
                    }
                    try send(&poll, &generator, onEvent)
                    schedule.recordAttempt(now: .now, using: &generator)
                }
            case .giveUp:
                return .noReply(tries: triesSent, lastError: lastError)
            }
        }
        return .stopped
    }

    /// Sends a new try from a new socket with a new id.
    private mutating func send(
        _ poll: inout PollSet,
        _ generator: inout SystemRandomNumberGenerator,
        _ onEvent: (Event) -> Void
    ) throws(UDPError) {
        let socket = SharedUDPSocket(try UDPSocket(bindingTo: .any(server.family)))
        // The error queue names who refused or could not route a try; a socket bound to a port accepts any
        // sender, so the filter, not the kernel, decides what is a reply, and counts what is not.
        try? socket.socket.setReceiveErrors(true)
        let query = DNSMessage.query(
            id: UInt16.random(in: .min ... .max, using: &generator),
            question: question,
            recursionDesired: recursionDesired,
            edns: edns
        )
        let bytes: [UInt8]
        do { bytes = try query.encoded() } catch { preconditionFailure("one question always encodes: \(error)") }
        let sentAt = MonotonicClock.now()
        _ = try socket.socket.send(bytes, to: server)
        triesSent += 1
        tries.append(
            Try(
                socket: socket,
                filter: DNSReplyFilter(server: server, query: query),
                attempt: triesSent,
                sentAt: sentAt
            )
        )
        poll.add(socket.descriptor)
        onEvent(.sent(attempt: triesSent, id: query.id, source: try socket.socket.localAddress, size: bytes.count))
    }

    private enum Received {
        case answered(Answer)
        case failed(DeliveryError)
    }

    /// Reads everything queued on try `index`'s socket: its errors first (an unread error queue keeps poll
    /// awake), then its datagrams, until the reply or an empty queue.
    private mutating func receive(
        on index: Int,
        _ poll: inout PollSet,
        _ onEvent: (Event) -> Void
    ) throws(UDPError) -> Received? {
        let shared = tries[index].socket
        var failure: DeliveryError?
        while let error = try shared.socket.receiveError() {
            guard believe(error, index, onEvent) else { continue }
            failure = error
        }
        while true {
            let info: ReceiveInfo?
            do throws(UDPError) {
                info = try shared.socket.receiveIfQueued(into: &buffer)
            } catch {
                // An error left by the kernel without its details (no error queue here): that try is over.
                guard let delivery = error.deliveryError else {
                    if error.code == .connectionRefused { break }
                    throw error
                }
                if believe(delivery, index, onEvent) { failure = delivery }
                continue
            }
            guard let info else { break }
            let receivedAt = MonotonicClock.now()
            switch tries[index].filter.check(buffer[..<info.count], from: info.sender) {
            case .reply(let reply):
                let roundTrip = receivedAt - tries[index].sentAt
                return .answered(
                    Answer(reply: reply, server: server, attempt: tries[index].attempt, roundTrip: roundTrip)
                )
            case .ignored(let reason):
                ignored.record(reason)
                onEvent(.ignored(sender: info.sender.unmapped, length: info.length, reason: reason))
            }
        }
        guard let failure else { return nil }
        tries[index].failed = true
        poll.remove(shared.descriptor)
        return .failed(failure)
    }

    /// Whether `error` ends try `index`: only when the try's `DNSReplyFilter` finds it about that try, since a
    /// forger who cannot see the query could otherwise end every try. Reports it either way; one that does not
    /// count is counted in ``ignored``, with its sender as the ICMP message's (port 0).
    private mutating func believe(_ error: DeliveryError, _ index: Int, _ onEvent: (Event) -> Void) -> Bool {
        guard let reason = tries[index].filter.check(error) else {
            onEvent(.deliveryError(error, attempt: tries[index].attempt))
            return true
        }
        ignored.record(reason)
        let sender = SocketAddress(error.offender ?? error.destination.ip, port: 0)
        onEvent(.ignored(sender: sender.unmapped, length: error.quotedPayload.count, reason: reason))
        return false
    }
}
