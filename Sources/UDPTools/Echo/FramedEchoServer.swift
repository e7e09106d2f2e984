import UDP
import UDPPatterns

/// The machine of `udp echo --framed`: answers UDPPatterns' framed requests through an `IdempotentServer`, a
/// datagram at a time, so a retried request id is answered from the reply cache and the reply is computed once
/// per request. It holds no socket and reads no clock; `MachineDriver` runs it on a socket that ``prepare(_:)``
/// set up, with ``MachineDriver/reportsEverySendError`` on, so that one peer's failed reply is counted and the
/// others are still served.
///
/// It interoperates with `udp send --framed`, `RequestReplyClient` and UDPAsync's `AsyncRequestReplyClient`.
///
/// ```swift
/// try FramedEchoServer.prepare(socket)
/// var server = FramedEchoServer(prefix: Array("ack: ".utf8))
/// var driver = MachineDriver(stop: stop)
/// driver.reportsEverySendError = true
/// try driver.run(&server, on: socket) { event in print(event) }
/// print(server.counters.replied, server.cacheCounters.servedFromCache)
/// ```
///
/// Each reply goes out from the address its request was sent to (the packet information the driver reads), so
/// a client that checks the source of a reply accepts it from a server bound to a wildcard address.
public struct FramedEchoServer: DatagramMachine {
    /// What happened, for a caller that logs.
    public enum Event: Sendable {
        /// A framed request from `peer`, `size` bytes, was answered (from the cache or not).
        case answered(peer: SocketAddress, size: Int)
        /// A datagram from `peer` that is not a framed request (or whose reply no frame can carry): nothing was
        /// sent back.
        case notFramed(peer: SocketAddress)
        /// The counters so far, every `reportInterval` (for `--stats`).
        case report(Reflector.Counters, IdempotentServer<SocketAddress>.Counters)
    }

    /// Why a datagram got no reply, each counted in ``drops``.
    public enum DropReason: Sendable, Hashable, CaseIterable {
        /// Not a framed request, or a reply longer than a frame carries (`IdempotentServer` counts which).
        case notFramed
        /// The kernel refused the reply (`SendReport.failed`).
        case sendFailed
        /// More than ``queueLimit`` replies were waiting for their driver to send them.
        case queueFull
    }

    /// The most replies, and the most events, kept for the driver to take: it takes them after every datagram,
    /// so only a caller that never polls comes near, and a peer cannot make the machine grow past it.
    public static let queueLimit = 64

    /// Datagrams received, replied and failed (not framed, refused by the kernel, or the queue full).
    public private(set) var counters = Reflector.Counters()
    /// Datagrams left unanswered, by reason; they add up to ``Reflector/Counters/failed``.
    public private(set) var drops: [DropReason: Int] = Dictionary(
        uniqueKeysWithValues: DropReason.allCases.map { ($0, 0) }
    )
    /// Requests that ran the handler and that were answered from the cache.
    public var cacheCounters: IdempotentServer<SocketAddress>.Counters { server.counters }
    /// Replies remembered for retries now (at most the cache's capacity, 4096).
    public var cachedReplies: Int { server.cache.count }
    /// Replies given to the driver whose send it has not reported yet.
    public private(set) var repliesInFlight = 0

    private var server: IdempotentServer<SocketAddress>
    private let prefix: [UInt8]
    private let reportInterval: Duration?
    private var nextReport: MonotonicInstant?
    private var replies = MachineQueue<OutboundDatagram>()
    private var events = MachineQueue<Event>()

    /// - Parameters:
    ///   - prefix: Bytes put before each reply payload.
    ///   - timeToLive: How long a reply stays in the cache for retries of its request.
    ///   - reportInterval: How often a ``Event/report(_:_:)`` comes; nil never.
    ///   - start: The instant the run starts, from which reports are timed.
    public init(
        prefix: [UInt8] = [],
        timeToLive: Duration = .seconds(30),
        reportInterval: Duration? = nil,
        start: MonotonicInstant = .zero
    ) {
        precondition(reportInterval.map { $0 > .zero } ?? true, "reports need an interval above zero")
        self.prefix = prefix
        self.reportInterval = reportInterval
        nextReport = reportInterval.map { start + $0 }
        server = IdempotentServer(timeToLive: timeToLive)
    }

    /// Sets `socket` up for serving: packet info on when it is bound to a wildcard address, so that each reply
    /// leaves from the address its request was sent to (``Reflector/answerFromTheAddressAsked(on:)``).
    public static func prepare(_ socket: borrowing UDPSocket) throws(UDPError) {
        try Reflector.answerFromTheAddressAsked(on: socket)
    }

    /// Answers a framed request (from the cache when it is a retry), or counts a datagram that is not one.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        counters.received += 1
        let info = datagram.info
        let prefix = prefix
        let reply = server.respond(to: datagram.payload, from: info.sender, now: now) { prefix + $0 }
        guard let reply else {
            drop(.notFramed)
            record(.notFramed(peer: info.sender))
            return
        }
        guard replies.count < Self.queueLimit else { return drop(.queueFull) }
        record(.answered(peer: info.sender, size: info.count))
        // As `UDPSocket.send(_:replyingTo:)`: from the address asked, with its interface if it is link-local.
        let source = info.replySource
        let linkLocal = if case .v6(let address) = source { address.isLinkLocal } else { false }
        replies.append(
            OutboundDatagram(
                reply,
                to: info.sender,
                from: source,
                interfaceIndex: linkLocal ? info.interfaceIndex : nil,
                socket: datagram.socket
            )
        )
    }

    /// Counts a reply sent, or failed.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        switch report {
        case .sent:
            repliesInFlight -= 1
            counters.replied += 1
        case .failed:
            repliesInFlight -= 1
            drop(.sendFailed)
        case .kernelTimestamp:
            break
        }
    }

    /// Gives the report that fell due.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        guard let interval = reportInterval, var due = nextReport, now >= due else { return }
        // One report however late the wake: a stalled run does not owe the ones it missed.
        while due <= now { due += interval }
        nextReport = due
        record(.report(counters, server.counters))
    }

    /// The next reply to send.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        guard let reply = replies.poll() else { return nil }
        repliesInFlight += 1
        return reply
    }

    /// The next event.
    public mutating func pollEvent() -> Event? { events.poll() }

    /// When the next report is due; nil without reports, as only a datagram moves the server on.
    public var nextDeadline: MonotonicInstant? { nextReport }

    /// Replies waiting for the driver to take them.
    public var queuedReplies: Int { replies.count }

    /// Events waiting for the driver to take them.
    public var queuedEvents: Int { events.count }

    private mutating func drop(_ reason: DropReason) {
        counters.failed += 1
        drops[reason, default: 0] += 1
    }

    /// Keeps `event` unless ``queueLimit`` are already waiting (only a caller that never polls gets there).
    private mutating func record(_ event: Event) {
        if events.count < Self.queueLimit { events.append(event) }
    }
}
