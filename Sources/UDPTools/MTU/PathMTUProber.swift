import UDP

/// The engine of `udp mtu`: finds the largest datagram that gets to an echo server and back, by sending probes
/// of chosen sizes with DF set and the kernel's cached path MTU ignored (`IP_PMTUDISC_PROBE`), and reading
/// what comes back: the echo, or an ICMP Packet Too Big from a router on the way (``PathMTUSearch`` decides).
///
/// A Packet Too Big counts only when it quotes the probe just sent (its id and sequence number): a forged or
/// stale one is reported as ``Event/ignored(_:)`` and changes nothing.
///
/// ```swift
/// let socket = try UDPSocket(family: server.family)
/// try socket.connect(to: server)
/// var prober = PathMTUProber(range: 548...1472, timeout: 1)
/// let search = try prober.run(socket, until: stop) { print($0) }
/// print(search.result ?? search.failure!)
/// ```
public struct PathMTUProber: ~Copyable {
    /// What the prober saw, in order.
    public enum Event: Sendable {
        /// Probe `size` (try `attempt`, from 1) ended with `outcome`: after `roundTrip` nanoseconds for an
        /// echo or an error, nil when lost.
        case probe(size: Int, attempt: Int, outcome: PathMTUSearch.Outcome, roundTrip: UInt64?)
        /// An ICMP error that quoted no probe in flight (forged, or for an earlier probe): not believed.
        case ignored(DeliveryError)
    }

    /// Payload sizes to search.
    public let range: ClosedRange<Int>
    /// Nanoseconds to wait for each probe's echo.
    public let timeout: UInt64
    private let probe = Probe()
    private var sequence: UInt64 = 0
    private var buffer = [UInt8](repeating: 0, count: 65_535)

    /// - Parameters:
    ///   - range: Payload sizes to search, at least ``Probe/headerSize`` bytes.
    ///   - timeout: Seconds to wait for each probe's echo before counting it lost.
    public init(range: ClosedRange<Int>, timeout: Double) {
        precondition(range.lowerBound >= Probe.headerSize, "a probe needs \(Probe.headerSize) bytes")
        self.range = range
        self.timeout = MonotonicClock.nanoseconds(seconds: timeout)
    }

    /// Runs the search on `socket`, connected to an echo server, until it has an answer or `stop` is
    /// requested. It sets the socket's path-MTU discovery to `.probe` and turns its error queue on.
    ///
    /// - Returns: The search, with its ``PathMTUSearch/result`` or its ``PathMTUSearch/failure`` (neither when
    ///   stopped first).
    /// - Throws: `UDPError` when the socket fails, or when the target refuses (port unreachable) or cannot be
    ///   reached at all: no size would come back.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        onEvent: (Event) -> Void
    ) throws(UDPError) -> PathMTUSearch {
        try socket.setPathMTUDiscovery(.probe)
        try socket.setReceiveErrors(true)
        var search = PathMTUSearch(family: try socket.remoteAddress.unmapped.family, range: range)
        var attempt = 0
        var lastSize = 0
        while let size = search.nextSize, !stop.isRequested {
            attempt = size == lastSize ? attempt + 1 : 1
            lastSize = size
            let (outcome, roundTrip) = try probe(size, socket, stop, onEvent)
            if stop.isRequested && outcome == .lost { break }
            onEvent(.probe(size: size, attempt: attempt, outcome: outcome, roundTrip: roundTrip))
            search.record(size: size, outcome: outcome)
        }
        return search
    }

    /// Sends one probe of `size` bytes and waits for its echo, an error quoting it, or the timeout.
    private mutating func probe(
        _ size: Int,
        _ socket: borrowing UDPSocket,
        _ stop: StopSignal,
        _ onEvent: (Event) -> Void
    ) throws(UDPError) -> (PathMTUSearch.Outcome, UInt64?) {
        sequence += 1
        let sequence = sequence
        let probe = probe
        let request = probe.payload(sequence: sequence, size: size)
        // Errors for earlier probes are stale now: read them so they cannot pass for this one's.
        while let stale = try socket.receiveError() { onEvent(.ignored(stale)) }
        let sentAt = MonotonicClock.now()
        do throws(UDPError) {
            try socket.send(request)
        } catch  where error.code == .messageTooLarge {
            // Larger than the local link: the stack refuses it before it leaves, and queues why, with the MTU.
            var mtu = error.pathMTU
            while let local = try socket.receiveError() {
                if case .messageTooLarge(let reported) = local.kind { mtu = reported } else { onEvent(.ignored(local)) }
            }
            return (.tooBig(mtu: mtu, from: nil), 0)
        }
        let deadline = sentAt + timeout
        while !stop.isRequested {
            guard try stop.wait(forReadable: socket.descriptor, until: deadline) else {
                if MonotonicClock.now() >= deadline { return (.lost, nil) }
                continue
            }
            while let event = try socket.receiveError() {
                guard Self.quotes(event.quotedPayload, request) else {
                    onEvent(.ignored(event))
                    continue
                }
                let roundTrip = MonotonicClock.now() - sentAt
                switch event.kind {
                case .packetTooBig(let mtu), .messageTooLarge(let mtu):
                    return (.tooBig(mtu: mtu, from: event.origin == .local ? nil : event.offender), roundTrip)
                default:
                    // Port, host or network unreachable: no size will come back.
                    throw UDPError(event, operation: .receive)
                }
            }
            while let info = try socket.receiveIfQueued(into: &buffer) {
                let found = buffer.withUnsafeBytes { bytes in
                    probe.sequence(in: UnsafeRawBufferPointer(rebasing: bytes[..<info.count]), requestSize: size)
                }
                if found == sequence && info.length >= size {
                    return (.echoed, MonotonicClock.now() - sentAt)
                }
            }
        }
        return (.lost, nil)
    }

    /// Whether `quote` is the start of `request`, and long enough to hold the probe's id and sequence number
    /// (IPv4 routers may quote only 8 bytes: then the magic and half the id must match).
    static func quotes(_ quote: [UInt8], _ request: [UInt8]) -> Bool {
        guard quote.count >= min(8, request.count), quote.count <= request.count else { return false }
        return quote.elementsEqual(request.prefix(quote.count))
    }
}
