import UDP
import UDPPatterns

/// The engine of `udp send`, the tutorial's client, as a `DatagramMachine`: send, wait with a timeout, resend
/// on the `RetryPolicy`'s schedule, give up with a clear answer. To a group or a broadcast address
/// (``manyRepliers``) every reply within the wait is handed over.
///
/// One client sends one message after another: ``send(_:expectReply:)`` starts one, and its driver runs it
/// until it is answered or given up (``isFinished``).
///
/// ```swift
/// var client = DatagramClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .seconds(1)))
/// client.send(Array("hi".utf8))
/// try MachineDriver(stop: stop).run(&client, on: socket) { event in print(event) }
/// if let failure = client.failure { throw failure }
/// ```
///
/// A reply the kernel stamped before the message went out (the socket's receive timestamps on) answered an
/// earlier message: it is ignored as late.
public struct DatagramClient: DatagramMachine {
    /// What happened, for a caller that prints.
    public enum Event {
        /// `size` bytes went to the destination; `attempt` 0 is the first, then the retries.
        case sent(size: Int, attempt: Int)
        /// A reply (opened, with a key).
        case reply(Datagram)
        /// A datagram that did not open under the key: ignored, as if it never came. Only a client with a key
        /// (`seal(with:)`, the package trait `Sealing`) has one; without the trait ``SealRejection`` is `Never`,
        /// and no such event can be made.
        case rejected(sender: SocketAddress, reason: SealRejection)
        /// A datagram that is no reply to the message in flight, from `sender`, and why.
        case ignored(sender: SocketAddress, reason: IgnoredReason)
        /// Nothing answered within `total` over `attempts` attempts.
        case noReply(total: Duration, attempts: Int)
    }

    /// Why a datagram was not taken as a reply.
    public enum IgnoredReason: Sendable, Hashable, CustomStringConvertible {
        /// It arrived before the message was sent: a reply to an earlier message, after its wait was over.
        case late
        /// It came from another address than the destination of a unicast client.
        case foreignSender
        /// No message was waiting for a reply.
        case notAwaited

        /// What it was, for people: `a late reply`.
        public var description: String {
            switch self {
            case .late: "a late reply"
            case .foreignSender: "a datagram from another address than the destination"
            case .notAwaited: "a datagram when no reply was awaited"
            }
        }
    }

    /// What the client has done and seen, over every message.
    public struct Counters: Sendable, Hashable {
        /// Datagrams sent, retries included.
        public var sent = 0
        /// Replies handed over.
        public var replies = 0
        /// Datagrams that did not open under the key.
        public var rejected = 0
        /// Datagrams ignored, by reason.
        public var late = 0
        /// See ``IgnoredReason/foreignSender``.
        public var foreignSenders = 0
        /// See ``IgnoredReason/notAwaited``.
        public var notAwaited = 0
        /// Delivery errors that quoted another destination, or came when nothing was in flight.
        public var ignoredDeliveryErrors = 0
        /// Events dropped because ``DatagramClient/maximumPendingEvents`` were waiting.
        public var droppedEvents = 0
    }

    /// Where each request goes: a server, a multicast group or a broadcast address.
    public let destination: SocketAddress
    /// True for a group or a broadcast address: wait out every attempt for all replies.
    public let manyRepliers: Bool
    /// How many attempts, and how long each waits for a reply (`RetryPolicy` of UDPPatterns).
    public let policy: RetryPolicy
    /// The most events held for ``pollEvent()``; a driver takes each one at once.
    public var maximumPendingEvents: Int { events.limit ?? 0 }
    /// What the client has done and seen.
    public private(set) var counters = Counters()
    /// How the last message ended: true when answered (or sent without waiting), false when nothing answered;
    /// nil while one is in flight, or before the first.
    public private(set) var answered: Bool?
    /// What stopped the last message: a delivery error about it, or a send that failed. The caller throws it.
    public private(set) var failure: ExchangeFailure?
    /// Seals requests and opens replies, with the package trait `Sealing` (`sealer` and `opener`, in
    /// DatagramClient+Sealing.swift); nil sends and takes them in the clear.
    var sealing: (any DatagramSealing)?

    private var generator: any RandomNumberGenerator & Sendable
    private var message: [UInt8] = []
    private var expectReply = true
    private var inFlight = false
    // The attempts' waits and the policy's deadline, from the first attempt's send: UDPPatterns' schedule, as
    // `RequestReplyClient` and the DNS stub query keep. Nil until the message's first attempt goes out.
    private var schedule: RetrySchedule?
    // The waits drawn for the message so far: the total its no-reply event reports when no deadline cut them.
    private var waited = Duration.zero
    private var transmitDue = false
    private var waitEnd: MonotonicInstant?
    // When the message's first attempt went out (wall clock, from its send report): older replies are late.
    private var sentAt: WallClockTime?
    private var replies = 0
    private var events = MachineQueue<Event>(limit: 256)

    /// A client without a key; `seal(with:)` adds one, with the package trait `Sealing`.
    ///
    /// - Parameters:
    ///   - destination: Where each request goes.
    ///   - manyRepliers: True for a group or a broadcast address: every attempt waits its whole time and
    ///     hands over every reply. False (the default) ends at the first reply.
    ///   - policy: Attempts and their waits.
    ///   - generator: Randomness for the policy's jitter; a seeded one for tests.
    public init(
        destination: SocketAddress,
        manyRepliers: Bool = false,
        policy: RetryPolicy,
        generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.destination = destination
        self.manyRepliers = manyRepliers
        self.policy = policy
        self.generator = generator
    }

    /// Starts `payload`: its first attempt goes out at the next ``pollTransmit(at:)``. The message before it is
    /// forgotten, answered or not.
    ///
    /// - Parameters:
    ///   - payload: The request.
    ///   - expectReply: False sends once and is finished at once.
    public mutating func send(_ payload: [UInt8], expectReply: Bool = true) {
        message = payload
        self.expectReply = expectReply
        schedule = nil
        waited = .zero
        transmitDue = true
        waitEnd = nil
        sentAt = nil
        replies = 0
        answered = nil
        failure = nil
        inFlight = true
    }

    /// True once the message is answered, given up, sent without waiting, or stopped by a failure.
    public var isFinished: Bool { !inFlight }

    /// The end of the awaited attempt's wait.
    public var nextDeadline: MonotonicInstant? { inFlight ? waitEnd : nil }

    /// The attempt due, sealed with a key; its wait starts now.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        guard inFlight, transmitDue else { return nil }
        transmitDue = false
        let datagram = sealing == nil ? message : sealing!.seal(message)
        if expectReply {
            var schedule = self.schedule ?? RetrySchedule(policy: policy, start: now)
            let end = schedule.recordAttempt(now: now, using: &generator)
            waited += end - now
            waitEnd = end
            self.schedule = schedule
        } else {
            finish(answered: true)
        }
        return OutboundDatagram(datagram, to: destination)
    }

    /// Reports the attempt that went out (its first sets the time before which replies are late), or ends the
    /// message on a send that failed.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        switch report {
        case .sent(_, _, let time, _):
            counters.sent += 1
            // The attempt just sent, from 0; a message sent without waiting has no schedule and one attempt.
            let attempt = max((schedule?.attemptsSent ?? 1) - 1, 0)
            if attempt == 0 { sentAt = time }
            post(.sent(size: message.count, attempt: attempt))
        case .failed(_, _, let error):
            guard failure == nil else { return }
            failure = .socketError(error)
            finish(answered: false)
        case .kernelTimestamp:
            break
        }
    }

    /// A reply, or a datagram ignored with its reason.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        let sender = datagram.sender.unmapped
        guard inFlight, waitEnd != nil else { return ignore(sender, .notAwaited) }
        if let sentAt, datagram.receivedAt < sentAt { return ignore(sender, .late) }
        if !manyRepliers, sender != destination.unmapped { return ignore(sender, .foreignSender) }
        var payload = Array(datagram.payload)
        if sealing != nil {
            switch sealing!.open(payload) {
            case .success(let opened):
                payload = opened
            case .failure(let reason):
                counters.rejected += 1
                return post(.rejected(sender: sender, reason: reason))
            }
        }
        counters.replies += 1
        replies += 1
        post(.reply(Datagram(payload: payload, info: datagram.info)))
        if !manyRepliers { finish(answered: true) }
    }

    /// An ICMP error about the message in flight (it quotes the destination) ends it, as a connected socket's
    /// receive failing with it did; a unicast client's only, since a group's members answer for themselves.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        guard inFlight, !manyRepliers, error.destination.unmapped == destination.unmapped else {
            counters.ignoredDeliveryErrors += 1
            return
        }
        failure = .deliveryError(error)
        finish(answered: false)
    }

    /// The end of an attempt's wait: the message is answered (a group's replies came), resent, or given up.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        guard inFlight, let waitEnd, now >= waitEnd, let schedule else { return }
        self.waitEnd = nil
        if replies > 0 { return finish(answered: true) }
        switch schedule.decision(now: now) {
        case .send:
            transmitDue = true
        case .wait(let until):
            self.waitEnd = until
        case .giveUp(let error):
            // Out of attempts, or past the deadline: either way nothing answered. The total is the policy's: its
            // deadline when that cut the waits short (not the clock's reading, a little later), else their sum.
            let total: Duration
            if case .deadlineExceeded = error, let deadline = policy.deadline {
                total = deadline
            } else {
                total = waited
            }
            post(.noReply(total: total, attempts: schedule.attemptsSent))
            finish(answered: false)
        }
    }

    /// The next event, in order.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    private mutating func ignore(_ sender: SocketAddress, _ reason: IgnoredReason) {
        switch reason {
        case .late: counters.late += 1
        case .foreignSender: counters.foreignSenders += 1
        case .notAwaited: counters.notAwaited += 1
        }
        post(.ignored(sender: sender, reason: reason))
    }

    private mutating func finish(answered: Bool) {
        inFlight = false
        waitEnd = nil
        transmitDue = false
        self.answered = answered
    }

    private mutating func post(_ event: Event) {
        if !events.append(event) { counters.droppedEvents += 1 }
    }
}
