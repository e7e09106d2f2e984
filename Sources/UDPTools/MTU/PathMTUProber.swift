import UDP
import UDPPatterns

/// The machine of `udp mtu`: finds the largest datagram that gets to an echo server and back, by sending probes
/// of the sizes ``PathMTUSearch`` chooses and reading what comes back: the echo, or an ICMP Packet Too Big from
/// a router on the way. It holds no socket and reads no clock; `MachineDriver` runs it on a socket that
/// ``prepare(_:)`` set up (DF set and the kernel's cached path MTU ignored, the error queue on).
///
/// A Packet Too Big counts only when it quotes the probe in flight (its id and sequence number): a forged or
/// stale one is reported as ``Event/ignored(_:)`` and changes nothing. A probe the local stack refuses
/// (larger than the local link) ends at once as too big, with the link's MTU.
///
/// ```swift
/// let socket = try UDPSocket(family: server.family)
/// try socket.connect(to: server)
/// try PathMTUProber.prepare(socket)
/// var prober = PathMTUProber(destination: server, range: 548...1472, timeout: .seconds(1))
/// try MachineDriver(stop: stop).run(&prober, on: socket) { print($0) }
/// print(prober.search.result ?? prober.search.failure!)
/// ```
public struct PathMTUProber: DatagramMachine {
    /// What the prober saw, in order.
    public enum Event: Sendable {
        /// Probe `size` (try `attempt`, from 1) ended with `outcome`: after `roundTrip` for an echo or an error,
        /// nil when lost.
        case probe(size: Int, attempt: Int, outcome: PathMTUSearch.Outcome, roundTrip: Duration?)
        /// An ICMP error that quoted no probe in flight (forged, or for an earlier probe): not believed.
        case ignored(DeliveryError)
    }

    /// The probe in flight.
    private struct InFlight {
        var size: Int
        var sequence: UInt64
        var request: [UInt8]
        var sentAt: MonotonicInstant
        var deadline: MonotonicInstant
        var sent = false
    }

    /// The echo server probed.
    public let destination: SocketAddress
    /// Payload sizes to search.
    public let range: ClosedRange<Int>
    /// How long each probe's echo is waited for.
    public let timeout: Duration
    /// The search: its ``PathMTUSearch/result`` or ``PathMTUSearch/failure`` once the prober is finished.
    public private(set) var search: PathMTUSearch
    /// Why probing ended without a search result: the target refused (port unreachable) or cannot be reached
    /// (no size would come back), or a send failed. Nil otherwise.
    public private(set) var error: UDPError?

    private let probe: Probe
    private var sequence: UInt64 = 0
    private var attempt = 0
    private var lastSize = 0
    private var inFlight: InFlight?
    private var events = MachineQueue<Event>()

    /// - Parameters:
    ///   - destination: The echo server, as the socket is connected to it.
    ///   - range: Payload sizes to search, at least ``Probe/headerSize`` bytes.
    ///   - timeout: How long to wait for each probe's echo before counting it lost.
    ///   - runID: The id every probe carries (random by default), so that another run's echoes are not taken.
    public init(
        destination: SocketAddress,
        range: ClosedRange<Int>,
        timeout: Duration,
        runID: UInt64 = .random(in: .min ... .max)
    ) {
        precondition(range.lowerBound >= Probe.headerSize, "a probe needs \(Probe.headerSize) bytes")
        self.destination = destination
        self.range = range
        self.timeout = timeout
        probe = Probe(runID: runID)
        search = PathMTUSearch(family: destination.unmapped.family, range: range)
    }

    /// Sets `socket` up for probing: the Don't Fragment bit on and the kernel's cached path MTU ignored
    /// (`IP_PMTUDISC_PROBE`), and ICMP errors queued, so that a Packet Too Big reaches the prober with its quote.
    public static func prepare(_ socket: borrowing UDPSocket) throws(UDPError) {
        try socket.setPathMTUDiscovery(.probe)
        try socket.setReceiveErrors(true)
    }

    /// True once the search has its answer, or probing cannot go on (``error``).
    public var isFinished: Bool { error != nil || (inFlight == nil && search.nextSize == nil) }

    /// When the probe in flight counts as lost.
    public var nextDeadline: MonotonicInstant? { inFlight.flatMap { $0.sent ? $0.deadline : nil } }

    /// The next probe, once the one before has ended.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        guard error == nil, inFlight == nil, let size = search.nextSize else { return nil }
        attempt = size == lastSize ? attempt + 1 : 1
        lastSize = size
        sequence += 1
        let request = probe.payload(sequence: sequence, size: size)
        inFlight = InFlight(size: size, sequence: sequence, request: request, sentAt: now, deadline: now)
        return OutboundDatagram(request, to: destination)
    }

    /// The next event.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    /// Starts the probe's clock when it left; ends it at once when the local stack refused it.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        switch report {
        case .sent:
            inFlight?.sent = true
            inFlight?.sentAt = now
            inFlight?.deadline = now + timeout
        case .failed(_, _, let failure) where failure.code == .messageTooLarge:
            // Larger than the local link: the stack refuses it before it leaves, and says the link's MTU.
            complete(.tooBig(mtu: failure.pathMTU, from: nil), roundTrip: .zero)
        case .failed(_, _, let failure):
            inFlight = nil
            error = failure
        case .kernelTimestamp:
            break
        }
    }

    /// An echo of the probe in flight, at its full size, ends it.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        guard let current = inFlight, current.sent else { return }
        let found = datagram.payload.withUnsafeBytes { probe.sequence(in: $0, requestSize: current.size) }
        if found == current.sequence && datagram.info.length >= current.size {
            complete(.echoed, roundTrip: now - current.sentAt)
        }
    }

    /// A Packet Too Big quoting the probe in flight ends it; an unreachable one ends the search.
    public mutating func handleDeliveryError(_ event: DeliveryError, socket: Int, at now: MonotonicInstant) {
        guard let current = inFlight, Self.quotes(event.quotedPayload, current.request) else {
            // The local stack's own record of a probe it refused, already counted from the send's error.
            if event.origin == .local, case .messageTooLarge = event.kind { return }
            events.append(.ignored(event))
            return
        }
        switch event.kind {
        case .packetTooBig(let mtu), .messageTooLarge(let mtu):
            let from = event.origin == .local ? nil : event.offender
            complete(.tooBig(mtu: mtu, from: from), roundTrip: now - current.sentAt)
        default:
            // Port, host or network unreachable: no size will come back.
            inFlight = nil
            error = UDPError(event, operation: .receive)
        }
    }

    /// The probe in flight is lost.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        guard let current = inFlight, current.sent, now >= current.deadline else { return }
        complete(.lost, roundTrip: nil)
    }

    private mutating func complete(_ outcome: PathMTUSearch.Outcome, roundTrip: Duration?) {
        guard let current = inFlight else { return }
        inFlight = nil
        events.append(.probe(size: current.size, attempt: attempt, outcome: outcome, roundTrip: roundTrip))
        search.record(size: current.size, outcome: outcome)
    }

    /// Whether `quote` is the start of `request`, and long enough to hold the probe's id and sequence number
    /// (IPv4 routers may quote only 8 bytes: then the magic and half the id must match).
    static func quotes(_ quote: [UInt8], _ request: [UInt8]) -> Bool {
        guard quote.count >= min(8, request.count), quote.count <= request.count else { return false }
        return quote.elementsEqual(request.prefix(quote.count))
    }
}
