import UDP

/// The engine of `udp ping`: one probe every interval to an echo server, every reply classified as it
/// comes, every wait bounded by the next send, the oldest probe's deadline, and the stop signal.
///
/// Each probe carries a random id of this run and its sequence number (``Probe``), found wherever the reply
/// holds it, so any echo will do: an RFC 862 echo, the tutorial's `ack: ` server, socat.
///
/// ```swift
/// var session = PingSession(target: server, count: 10, interval: 1_000_000_000, size: 64, timeout: 2)
/// try session.run(connectedSocket, until: stop) { event in print(event) }
/// print(session.summary.counts)
/// ```
public struct PingSession: ~Copyable {
    /// What happened, in order, for a caller that prints as ping(8) does.
    public enum Event {
        /// A reply of `length` bytes from `sender` to probe `sequence`; `clock` says how its round trip was
        /// measured (``Timestamps/user`` when the kernel's stamps were asked for but missing, or stepped).
        case reply(sender: SocketAddress, length: Int, sequence: UInt64, kind: ReplyKind, clock: Timestamps)
        /// Probe `sequence` had no reply within the timeout.
        case lost(sequence: UInt64)
        /// A datagram that was no reply to a probe of this run, with the reason.
        case ignored(sender: SocketAddress, length: Int, reason: IgnoredReason)
        /// An ICMP error for a probe, from a router or the target's host, read from the error queue: who sent
        /// it and what it says (`From 198.18.1.1: time exceeded`); the probes go on.
        case icmpError(DeliveryError)
        /// An error the kernel reported for the path without the error queue's details (`ENOBUFS`, or a
        /// refusal where the queue is not available); the probes go on.
        case pathError(UDPError)
    }

    /// Which clock measures the round trips.
    public enum Timestamps: String, Sendable {
        /// The kernel's software stamps: when the probe left the stack, and when the reply arrived in it. No
        /// scheduling delay of this process in the figure; wall-clock times, so a clock step spoils a sample
        /// (dropped and counted as ``LatencySummary/clockSteps``).
        case kernel
        /// This process's monotonic clock around its send and receive calls.
        case user
    }

    /// How a reply counts.
    public enum ReplyKind: Equatable {
        /// The first reply within the timeout, with its round trip in nanoseconds.
        case first(roundTrip: UInt64)
        /// A second reply to the same probe.
        case duplicate(roundTrip: UInt64)
        /// A reply after the probe was counted lost (round trip nil once the probe's slot was reused).
        case late(roundTrip: UInt64?)
    }

    /// Why a datagram was ignored.
    public enum IgnoredReason: Equatable {
        /// It held no probe of this run.
        case noProbe
        /// It carried a sequence number never sent.
        case neverSent(sequence: UInt64)
        /// With a key: it did not open.
        case didNotOpen
    }

    /// The echo server the probes go to.
    public let target: SocketAddress
    /// Probes to send; 0 sends until stopped.
    public let count: Int
    /// Nanoseconds between probes.
    public let interval: UInt64
    /// Payload bytes in each probe.
    public let size: Int
    private let probe = Probe()
    private var tracker: ProbeTracker
    private var latency: LatencyRecorder
    /// The user-space round trips, kept beside the kernel's when those are the main figures.
    private var userLatency: LatencyRecorder
    private var kernelRoundTrips: KernelRoundTrips
    private var clockSteps = 0
    /// The clock asked for.
    public let requestedTimestamps: Timestamps
    /// The clock in use: ``requestedTimestamps``, or `.user` when the kernel could not give its stamps (see
    /// ``timestampsUnavailable``).
    public private(set) var timestamps: Timestamps
    /// Why kernel timestamps were not used although asked for, or nil.
    public private(set) var timestampsUnavailable: String?
    private var foreign = 0
    private var errors = 0
    private var icmpErrors = 0
    /// Probes the loop tried to send, including any the kernel refused.
    private var attempts = 0
    private var request: [UInt8]
    private var reply = [UInt8](repeating: 0, count: 65_535)
    private var started: UInt64 = 0
    private var stopped: UInt64 = 0
    /// With a key (`seal(with:)`, PingSession+Sealing.swift, the package trait `Sealing`): probes go out sealed,
    /// and replies that do not open count as foreign. Nil in the clear.
    var sealing: (any DatagramSealing)?

    /// - Parameters:
    ///   - target: Where the probes go (the socket is connected to it).
    ///   - count: Probes to send; 0 sends until stopped.
    ///   - interval: Nanoseconds between probes.
    ///   - size: Payload bytes per probe, at least ``Probe/headerSize``.
    ///   - timeout: Seconds after which a probe without reply is lost.
    ///   - timestamps: The clock for round trips; the kernel's falls back to the user's where not available.
    public init(
        target: SocketAddress,
        count: Int,
        interval: UInt64,
        size: Int,
        timeout: Double,
        timestamps: Timestamps = .kernel
    ) {
        precondition(size >= Probe.headerSize, "a probe needs \(Probe.headerSize) bytes")
        self.target = target
        self.count = count
        self.interval = interval
        self.size = size
        let timeoutNanoseconds = MonotonicClock.nanoseconds(seconds: timeout)
        // Enough slots for every probe that can be in flight within the timeout, and then some, so a
        // duplicate of a recent probe is still recognised.
        let inFlight = Int((Double(timeoutNanoseconds) / Double(max(interval, 1))).rounded(.up)) + 2
        tracker = ProbeTracker(capacity: max(64, inFlight), lossTimeout: timeoutNanoseconds)
        latency = LatencyRecorder(highest: timeoutNanoseconds)
        userLatency = LatencyRecorder(highest: timeoutNanoseconds)
        kernelRoundTrips = KernelRoundTrips(capacity: max(64, inFlight))
        requestedTimestamps = timestamps
        self.timestamps = timestamps
        request = probe.payload(sequence: 0, size: size)
    }

    /// The statistics so far (final after ``run(_:until:onEvent:)`` returns).
    public var summary: LatencySummary {
        LatencySummary(
            counts: tracker.counts,
            foreign: foreign,
            errors: errors,
            icmpErrors: icmpErrors,
            latency: latency,
            userLatency: userLatency,
            timestamps: timestamps.rawValue,
            clockSteps: clockSteps,
            duration: Double(stopped - started) / 1e9,
            payloadSize: size
        )
    }

    /// Sends the probes on `socket` (connected to ``target``) and handles every reply, until ``count``
    /// probes are answered or lost, or `stop` is requested.
    ///
    /// It turns the socket's error queue on (`UDPSocket.setReceiveErrors(_:)`), where the system has
    /// one, so that each ICMP error arrives as an ``Event/icmpError(_:)`` naming the router or host that sent it.
    ///
    /// - Throws: `UDPError` for anything but the path errors ping(8) shows and goes on after.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        onEvent: (Event) -> Void
    ) throws(UDPError) {
        // Without the queue (not Linux), refusals still come as the connected socket's plain errors.
        try? socket.setReceiveErrors(true)
        if timestamps == .kernel, let reason = socket.enableKernelStamps() {
            timestamps = .user
            timestampsUnavailable = reason
        }
        started = MonotonicClock.now()
        var nextSend = started
        while !stop.isRequested {
            let now = MonotonicClock.now()
            tracker.expire(now: now) { onEvent(.lost(sequence: $0)) }
            let more = count == 0 || attempts < count
            if more && now >= nextSend {
                try send(socket, onEvent)
                // After a stall (a suspended process), one probe goes at once and the rhythm resumes.
                nextSend = max(nextSend + interval, now)
                continue
            }
            if !more && tracker.inFlight == 0 { break }
            var wake = more ? nextSend : UInt64.max
            if let deadline = tracker.nextDeadline { wake = min(wake, deadline) }
            if try stop.wait(forReadable: socket.descriptor, until: wake) { try receive(socket, onEvent) }
        }
        stopped = MonotonicClock.now()
        tracker.finish()
    }

    private mutating func send(_ socket: borrowing UDPSocket, _ onEvent: (Event) -> Void) throws(UDPError) {
        attempts += 1
        let sequence = tracker.nextSequence
        request.withUnsafeMutableBytes { probe.writeHeader(sequence: sequence, into: $0) }
        // An ICMP error left by an earlier probe is reported by this send instead of sending; the error is
        // cleared by reporting it, so one more try goes out.
        for _ in 0..<2 {
            let sentAt = MonotonicClock.now()
            let result: Result<Int, UDPError>
            if sealing != nil {
                let sealed = sealing!.seal(request)
                result = Result { () throws(UDPError) in try socket.send(sealed) }
            } else {
                result = request.withUnsafeBytes { bytes in Result { () throws(UDPError) in try socket.send(bytes) } }
            }
            switch result {
            case .success:
                tracker.sent(1, at: sentAt)
                kernelRoundTrips.sent(sequence: sequence)
                return
            case .failure(let error):
                try report(error, onEvent)
            }
        }
    }

    private mutating func receive(_ socket: borrowing UDPSocket, _ onEvent: (Event) -> Void) throws(UDPError) {
        // The error queue first: a queue left unread keeps poll awake (POLLERR) and would spin this loop, and
        // a probe's send stamp must be in before its reply is measured.
        while let entry = try socket.receiveErrorQueue() {
            switch entry {
            case .deliveryError(let event):
                icmpErrors += 1
                onEvent(.icmpError(event))
            case .sendTimestamp(let stamp):
                kernelRoundTrips.record(stamp)
            }
        }
        // Never blocks: poll said readable, and if the datagram is gone (a bad checksum) that is no reply.
        let result = reply.withUnsafeMutableBytes { buffer in
            Result { () throws(UDPError) in try socket.receiveIfQueued(into: buffer) }
        }
        switch result {
        case .failure(let error):
            try report(error, onEvent)
        case .success(nil):
            return
        case .success(let info?):
            let now = MonotonicClock.now()
            let size = size
            let probe = probe
            let sender = info.sender.unmapped
            if sealing != nil {
                guard case .success(let opened) = sealing!.open(Array(reply[..<info.count])) else {
                    foreign += 1
                    onEvent(.ignored(sender: sender, length: info.length, reason: .didNotOpen))
                    return
                }
                let sequence = opened.withUnsafeBytes { probe.sequence(in: $0, requestSize: size) }
                handle(sender, info, sequence: sequence, at: now, onEvent)
                return
            }
            let sequence = reply.withUnsafeBytes { bytes in
                probe.sequence(in: UnsafeRawBufferPointer(rebasing: bytes[..<info.count]), requestSize: size)
            }
            handle(sender, info, sequence: sequence, at: now, onEvent)
        }
    }

    private mutating func handle(
        _ sender: SocketAddress,
        _ info: ReceiveInfo,
        sequence: UInt64?,
        at now: UInt64,
        _ onEvent: (Event) -> Void
    ) {
        let length = info.length
        guard let sequence else {
            foreign += 1
            onEvent(.ignored(sender: sender, length: length, reason: .noProbe))
            return
        }
        // The kernel's round trip, where asked for and sound; else the user-space one, and the line says so.
        var clock = Timestamps.user
        var kernel: UInt64?
        if timestamps == .kernel, let receivedAt = info.timestamp {
            switch kernelRoundTrips.roundTrip(sequence: sequence, receivedAt: receivedAt) {
            case .roundTrip(let roundTrip):
                kernel = roundTrip
                clock = .kernel
            case .clockStep: clockSteps += 1
            case .missing: break
            }
        }
        let kind: ReplyKind
        switch tracker.handleReply(sequence: sequence, at: now) {
        case .received(let roundTrip, _):
            userLatency.record(roundTrip)
            if timestamps == .user { latency.record(roundTrip) } else if let kernel { latency.record(kernel) }
            kind = .first(roundTrip: kernel ?? roundTrip)
        case .duplicate(let roundTrip):
            kind = .duplicate(roundTrip: kernel ?? roundTrip)
        case .late(let roundTrip):
            clock = .user
            kind = .late(roundTrip: roundTrip)
        case .unknown:
            foreign += 1
            onEvent(.ignored(sender: sender, length: length, reason: .neverSent(sequence: sequence)))
            return
        }
        onEvent(.reply(sender: sender, length: length, sequence: sequence, kind: kind, clock: clock))
    }

    /// An error the kernel reports for the path rather than for this program (ICMP port or host unreachable)
    /// is handed over and counted, and the probes go on, as ping(8)'s do; anything else ends the run.
    private mutating func report(_ error: UDPError, _ onEvent: (Event) -> Void) throws(UDPError) {
        if let event = error.deliveryError {
            icmpErrors += 1
            onEvent(.icmpError(event))
            return
        }
        switch error.errno {
        case .connectionRefused?, .hostUnreachable?, .networkUnreachable?, .noBufferSpace?:
            errors += 1
            onEvent(.pathError(error))
        default:
            throw error
        }
    }
}
