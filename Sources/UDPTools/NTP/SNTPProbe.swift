import UDP
import UDPNTP

/// The engine of `udp ntp`: asks an NTP server for the time `count` times, one request at a time, and measures
/// each reply's offset and delay (`NTPSample`), never touching this host's clock.
///
/// A reply counts only from the address and port asked, and only when `SNTPRequest.check(datagram:)`
/// accepts it: its length must be the header's and whole extension fields', and its origin timestamp must echo
/// the request's random transmit timestamp. An ICMP error ends a request only when it quotes that timestamp.
/// Everything else is counted by reason (``ignoredByReason``) and the wait goes on. A kiss-o'-death `RATE`
/// doubles the interval; `DENY` and `RSTR` end the run, as RFC 4330 §8 requires. T1 and T4 are the kernel's
/// timestamps where it gives them (when the request left the stack, when the reply arrived in it), else this
/// process's wall-clock readings around its calls; each sample says which.
///
/// ```swift
/// var probe = SNTPProbe(server: server, count: 4, interval: 500_000_000, timeout: 1_000_000_000)
/// let socket = try SNTPProbe.makeSocket(for: server)
/// try probe.run(socket, until: stop) { print($0) }
/// print(probe.best?.offset as Any)
/// ```
public struct SNTPProbe: ~Copyable {
    /// Which clock gave T1 and T4.
    public typealias Timestamps = PingSession.Timestamps

    /// What happened, in order.
    public enum Event: Sendable {
        /// Request `index` (from 0) got a valid reply.
        case sample(index: Int, NTPSample, clock: Timestamps)
        /// Request `index` had no valid reply within the timeout.
        case timeout(index: Int)
        /// The server answered request `index` with a kiss-o'-death; `nextInterval` is the interval after
        /// backing off (`RATE`), nil when the run stops (`DENY`, `RSTR`, or a code it does not know).
        case kissOfDeath(index: Int, KissCode, nextInterval: UInt64?)
        /// An ICMP error (or a local one) for request `index`: the server's port or host unreachable.
        case deliveryError(index: Int, DeliveryError)
        /// A datagram that was no valid reply, and why; or an ICMP error that did not count (an `icmp` reason),
        /// with its sender at port 0.
        case ignored(sender: SocketAddress, reason: SNTPIgnoredReason)
    }

    /// The NTP server asked, with its port (123); a reply counts only from this address and port.
    public let server: SocketAddress
    /// Requests to send, one at a time.
    public let count: Int
    /// Nanoseconds between requests (grows after a `RATE` kiss).
    public private(set) var interval: UInt64
    /// Nanoseconds to wait for each reply.
    public let timeout: UInt64
    /// The clock asked for; the kernel's falls back to the user's where a stamp is missing.
    public let requestedTimestamps: Timestamps
    /// Why kernel timestamps were not used at all although asked for, or nil.
    public private(set) var timestampsUnavailable: String?

    /// The valid samples, in order, each with its clock.
    public private(set) var samples: [(sample: NTPSample, clock: Timestamps)] = []
    /// Datagrams (and ICMP errors) ignored, by reason; at most one entry per ``SNTPIgnoredReason``.
    public private(set) var ignoredByReason = SNTPIgnoredCounts()
    /// ``ignoredByReason`` keyed by text, for printing: `not from 192.0.2.1:123`, `wrong origin timestamp`.
    public var ignored: [String: Int] {
        var text: [String: Int] = [:]
        for (reason, count) in ignoredByReason.byReason {
            text[reason == .wrongSource ? "not from \(server)" : reason.description] = count
        }
        return text
    }
    /// Why the last request without a sample had none: a time-out, a kiss code, an ICMP error.
    public private(set) var lastFailure: String?

    private var buffer = [UInt8](repeating: 0, count: 2_048)
    /// Datagrams this socket has sent: the number the kernel gives the next one's send stamp.
    private var sends: UInt32 = 0
    private var kernelStamps = false

    /// - Parameters:
    ///   - server: The server's address and port (123).
    ///   - count: Requests to send.
    ///   - interval: Nanoseconds between requests.
    ///   - timeout: Nanoseconds to wait for each reply.
    ///   - timestamps: Kernel timestamps where available (the default), or this process's clock.
    public init(
        server: SocketAddress,
        count: Int = 4,
        interval: UInt64 = 500_000_000,
        timeout: UInt64 = 1_000_000_000,
        timestamps: Timestamps = .kernel
    ) {
        self.server = server
        self.count = count
        self.interval = interval
        self.timeout = timeout
        requestedTimestamps = timestamps
    }

    /// The sample NTP's clock filter would choose: the least delay.
    public var best: (sample: NTPSample, clock: Timestamps)? { samples.min { $0.sample.delay < $1.sample.delay } }

    /// A socket for asking `server`: its family, a random ephemeral port, unconnected so that a reply from
    /// elsewhere is seen and counted rather than silently dropped.
    public static func makeSocket(for server: SocketAddress) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket(family: server.family)
        try socket.bind(to: .any(server.family, port: 0))
        return socket
    }

    /// Sends the requests, one at a time, until ``count`` are done, a kiss says stop, or `stop` is requested.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        onEvent: (Event) -> Void
    ) throws(UDPError) {
        // ICMP errors come as typed events from the queue where there is one.
        try? socket.setReceiveErrors(true)
        if requestedTimestamps == .kernel {
            timestampsUnavailable = socket.enableKernelStamps()
            kernelStamps = timestampsUnavailable == nil
        }
        var nextSend = MonotonicClock.now()
        for index in 0..<count {
            if index > 0, try stop.sleep(until: nextSend) { return }
            if stop.isRequested { return }
            let started = MonotonicClock.now()
            guard try exchange(index, socket, until: stop, onEvent) else { return }
            nextSend = started + interval
        }
    }

    /// One request and the wait for its reply; false when the run must end (a stop, or a kiss that says so).
    private mutating func exchange(
        _ index: Int,
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        _ onEvent: (Event) -> Void
    ) throws(UDPError) -> Bool {
        let request = SNTPRequest()
        let stampID = sends
        let sentAt = WallClock.now()
        switch try send(request, socket, onEvent) {
        case .sent: sends &+= 1
        case .failed(let event): return failed(index, event, onEvent)
        case .abandoned:
            lastFailure = "the request could not be sent past \(Self.sendTries) ICMP errors"
            onEvent(.timeout(index: index))
            return true
        }
        var kernelSentAt: UInt64?
        let deadline = MonotonicClock.now() + timeout
        while true {
            guard try stop.wait(forReadable: socket.descriptor, until: deadline) else {
                if stop.isRequested { return false }
                lastFailure = "no reply within \(Double(timeout) / 1e9) s"
                onEvent(.timeout(index: index))
                return true
            }
            // The queue first: the send stamp, or the ICMP error that ends this request.
            while let entry = try socket.receiveErrorQueue() {
                switch entry {
                case .sendTimestamp(let stamp) where stamp.id == stampID: kernelSentAt = stamp.time
                case .sendTimestamp: break
                case .deliveryError(let event):
                    if believe(event, request, onEvent) { return failed(index, event, onEvent) }
                }
            }
            let info: ReceiveInfo
            do throws(UDPError) {
                guard let received = try socket.receiveIfQueued(into: &buffer) else { continue }
                info = received
            } catch {
                guard let event = error.deliveryError else { throw error }
                if believe(event, request, onEvent) { return failed(index, event, onEvent) }
                continue
            }
            let receivedAt = WallClock.now()
            guard info.sender.unmapped == server.unmapped else {
                ignore(info.sender, .wrongSource, onEvent)
                continue
            }
            switch request.check(datagram: buffer[..<info.count]) {
            case .invalid(let rejection):
                ignore(info.sender, .rejected(rejection), onEvent)
            case .kissOfDeath(let code):
                lastFailure = "kiss-o'-death \(code)"
                if code == .rate {
                    // Twice the interval, and at least two seconds: the server asked for fewer requests.
                    interval = max(interval * 2, 2_000_000_000)
                    onEvent(.kissOfDeath(index: index, code, nextInterval: interval))
                    return true
                }
                onEvent(.kissOfDeath(index: index, code, nextInterval: nil))
                return false
            case .reply(let reply):
                let clock: Timestamps
                let sample: NTPSample
                if kernelStamps, let kernelReceivedAt = info.timestamp,
                    let kernelSent = kernelSentAt ?? Self.sendStamp(stampID, socket)
                {
                    clock = .kernel
                    sample = NTPSample(reply: reply, sentAt: kernelSent, receivedAt: kernelReceivedAt)
                } else {
                    clock = .user
                    sample = NTPSample(reply: reply, sentAt: sentAt, receivedAt: receivedAt)
                }
                samples.append((sample, clock))
                onEvent(.sample(index: index, sample, clock: clock))
                return true
            }
        }
    }

    /// What became of a request's send.
    private enum SendOutcome {
        case sent
        /// An ICMP error about this request: it ends.
        case failed(DeliveryError)
        /// Every try failed on another datagram's ICMP error.
        case abandoned
    }

    /// Sends tried for one request before it is given up.
    static let sendTries = 4

    /// Sends `request`. With the error queue on, an ICMP error that arrived since the last request (about an
    /// earlier one, or forged: anyone who knows the server can send one) fails this send, which never left,
    /// and the kernel retries it once (`sendRetryingPendingError`). A burst of them can fail that retry too, so
    /// each queued error is judged here like any other (``believe(_:_:_:)``, counted when it is not about this
    /// request, which it cannot be) and the send tried again, ``sendTries`` times at most: forged errors can
    /// cost one request, never the run.
    private mutating func send(
        _ request: SNTPRequest,
        _ socket: borrowing UDPSocket,
        _ onEvent: (Event) -> Void
    ) throws(UDPError) -> SendOutcome {
        for _ in 0..<Self.sendTries {
            do throws(UDPError) {
                try socket.send(request.packet.encoded, to: server)
                return .sent
            } catch {
                guard error.isFromICMP else { throw error }
                if let event = error.deliveryError, believe(event, request, onEvent) { return .failed(event) }
            }
            // The queue is bounded by the socket's receive buffer; the count bounds this loop all the same.
            for _ in 0..<64 {
                guard let entry = try? socket.receiveErrorQueue() else { break }
                if case .deliveryError(let event) = entry, believe(event, request, onEvent) { return .failed(event) }
            }
        }
        return .abandoned
    }

    /// The send stamp numbered `id`, if the queue holds it now (it can trail the reply on a fast path).
    private static func sendStamp(_ id: UInt32, _ socket: borrowing UDPSocket) -> UInt64? {
        while let entry = try? socket.receiveErrorQueue() {
            if case .sendTimestamp(let stamp) = entry, stamp.id == id { return stamp.time }
        }
        return nil
    }

    private mutating func failed(_ index: Int, _ event: DeliveryError, _ onEvent: (Event) -> Void) -> Bool {
        lastFailure = "\(event.kind)" + (event.offender.map { " (from \($0))" } ?? "")
        onEvent(.deliveryError(index: index, event))
        return true
    }

    /// Whether `event` is about `request` (``SNTPRequest/check(_:server:)``); one that is not is counted.
    private mutating func believe(_ event: DeliveryError, _ request: SNTPRequest, _ onEvent: (Event) -> Void) -> Bool {
        guard let reason = request.check(event, server: server) else { return true }
        ignore(SocketAddress(event.offender ?? event.destination.ip, port: 0), reason, onEvent)
        return false
    }

    private mutating func ignore(_ sender: SocketAddress, _ reason: SNTPIgnoredReason, _ onEvent: (Event) -> Void) {
        ignoredByReason.record(reason)
        onEvent(.ignored(sender: sender.unmapped, reason: reason))
    }
}
