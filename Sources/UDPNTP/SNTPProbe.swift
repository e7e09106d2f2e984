import UDP
import UDPPatterns

/// The machine behind `udp ntp`: asks an NTP server for the time `count` times, one request at a time, and
/// measures each reply's offset and delay (``NTPSample``), never touching this host's clock. It holds no
/// socket and reads no clock: a driver (`MachineDriver`, in UDPTools) runs it on a socket, a test on a fake
/// clock.
///
/// Requests go out ``interval`` apart (from one send to the next, or at once after a wait that ran longer),
/// each waiting ``timeout`` for its reply. A reply counts only from the address and port asked, and only when
/// ``SNTPRequest/check(datagram:)`` accepts it: its length must be the header's and whole extension fields',
/// and its origin timestamp must echo the request's random transmit timestamp. An ICMP error ends a request
/// only when it quotes that timestamp (``SNTPRequest/check(_:server:)``). Everything else is counted by reason
/// (``ignoredByReason``) and the wait goes on. A kiss-o'-death `RATE` doubles the interval (to 2 s at least);
/// `DENY`, `RSTR` and codes it does not know end the run, as RFC 4330 §8 requires.
///
/// T1 is the kernel's send stamp (`SendReport.kernelTimestamp` with the send's `stampID`) and T4 the kernel's
/// receive stamp (`InboundDatagram.receivedAt`) when the socket has them on (``kernelStamps``) and both came;
/// otherwise T1 is the wall clock just before the send (`SendReport.sent`), T4 the datagram's time as the
/// driver gave it, and the sample says `user`.
///
/// ```swift
/// let socket = try UDPSocket.sntpClient(for: server)
/// let kernelStamps = socket.enableKernelStamps() == nil
/// var probe = SNTPProbe(server: server, count: 4, interval: .milliseconds(500), kernelStamps: kernelStamps)
/// try MachineDriver(stop: stop).run(&probe, on: socket) { print($0) }
/// print(probe.best?.sample.offset as Any)
/// ```
public struct SNTPProbe: DatagramMachine, Sendable {
    /// The NTP server asked, with its port (123); a reply counts only from this address and port.
    public let server: SocketAddress
    /// Requests to send, one at a time.
    public let count: Int
    /// Time between requests (grows after a `RATE` kiss, up to ``longestInterval``).
    public internal(set) var interval: Duration
    /// Time to wait for each reply, from its send.
    public let timeout: Duration
    /// Whether the socket has the kernel's send and receive stamps on: then T1 and T4 are the kernel's where
    /// both came.
    public let kernelStamps: Bool

    /// The valid samples, in order, each with its clock.
    public internal(set) var samples: [(sample: NTPSample, clock: Timestamps)] = []
    /// Datagrams (and ICMP errors) ignored, by reason; at most one entry per ``SNTPIgnoredReason``.
    public internal(set) var ignoredByReason = SNTPIgnoredCounts()
    /// Why the last request without a sample had none: a time-out, a kiss code, an ICMP error.
    public internal(set) var lastFailure: Failure?
    /// The error of a send that ended the run: one that is not an ICMP error's (no such device, an address
    /// not available), which no retry can mend. Its driver reported it; the run's caller reports it on.
    public internal(set) var sendError: UDPError?
    /// Requests started so far: each ends in one sample, time-out, kiss-o'-death or delivery error event.
    public internal(set) var requestsStarted = 0
    /// Requests ended so far (at most one fewer than ``requestsStarted``: one at a time).
    public internal(set) var requestsEnded = 0

    /// Sends tried for one request before it is given up: forged ICMP errors can cost one request, never the run.
    public static let sendTries = 4
    /// The longest interval a `RATE` kiss can back off to: RFC 5905's longest poll interval (2¹⁷ s, 36 h).
    public static let longestInterval = Duration.seconds(131_072)
    /// The most events held until polled; beyond it, `ignored` events are dropped (still counted).
    public static let eventLimit = 64

    let nonce: @Sendable () -> UInt64
    var exchange: Exchange?
    /// When the next request may go out once none is in flight; nil: at once.
    var nextSend: MonotonicInstant?
    var finished: Bool
    /// The request last made, to judge what arrives after it ended.
    var lastRequest: SNTPRequest?
    var events = MachineQueue<Event>()

    /// One request in flight: from the moment ``pollTransmit(at:)`` gives it to its sample, time-out,
    /// kiss-o'-death or ICMP error.
    struct Exchange {
        let request: SNTPRequest
        let index: Int
        let started: MonotonicInstant
        var deadline: MonotonicInstant
        /// Sends tried.
        var tries = 0
        /// Whether it waits for ``pollTransmit(at:)`` to give it (again, after a failed send).
        var queued = true
        /// T1 by this process's clock, once the kernel took the request.
        var sentAt: WallClockTime?
        /// The number of the request's kernel send stamp.
        var stampID: UInt32?
        /// T1 by the kernel's stamp, once it came.
        var kernelSentAt: WallClockTime?
    }

    /// - Parameters:
    ///   - server: The server's address and port (123).
    ///   - count: Requests to send.
    ///   - interval: Time between requests.
    ///   - timeout: Time to wait for each reply.
    ///   - kernelStamps: Whether the socket has the kernel's send and receive stamps on.
    ///   - nonce: Each request's transmit timestamp, never 0: random by default; a test's or a fuzzer's fixed
    ///     sequence makes a run repeatable.
    public init(
        server: SocketAddress,
        count: Int = 4,
        interval: Duration = .milliseconds(500),
        timeout: Duration = .seconds(1),
        kernelStamps: Bool = false,
        nonce: @escaping @Sendable () -> UInt64 = { .random(in: 1...UInt64.max) }
    ) {
        self.server = server
        self.count = count
        self.interval = interval
        self.timeout = timeout
        self.kernelStamps = kernelStamps
        self.nonce = nonce
        finished = count <= 0
    }

    /// The sample NTP's clock filter would choose: the least delay.
    public var best: (sample: NTPSample, clock: Timestamps)? { samples.min { $0.sample.delay < $1.sample.delay } }

    /// True once every request ended, a kiss said stop, or a send failed for good.
    public var isFinished: Bool { finished }

    /// The reply's deadline while a request is in flight; else when the next may go out (the clock's origin,
    /// so at once, before the first).
    public var nextDeadline: MonotonicInstant? {
        if finished { return nil }
        if let exchange { return exchange.deadline }
        return nextSend ?? .zero
    }

    /// The request, when one is due: the first at once, each next ``interval`` after the one before started.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        if finished { return nil }
        if exchange == nil {
            if let nextSend, now < nextSend { return nil }
            let request = SNTPRequest(nonce: nonce())
            exchange = Exchange(request: request, index: requestsStarted, started: now, deadline: now + timeout)
            lastRequest = request
            requestsStarted += 1
        }
        guard var exchange, exchange.queued else { return nil }
        exchange.queued = false
        exchange.tries += 1
        self.exchange = exchange
        return OutboundDatagram(exchange.request.packet.encoded, to: server)
    }

    /// The next event.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }
}
