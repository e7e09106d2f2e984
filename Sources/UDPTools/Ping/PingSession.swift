import UDP
import UDPPatterns

/// The machine of `udp ping`: one probe every ``interval`` to an echo server (``count`` of them, or until
/// stopped), every reply classified as it comes (first, duplicate, late), every probe without a reply within
/// ``timeout`` lost. It holds no socket and reads no clock: `MachineDriver` runs it on a socket connected to
/// ``target`` and set up by ``prepare(_:timestamps:)``; a test runs it on a fake clock.
///
/// Each probe carries a random id of this run and its sequence number (``Probe``), found wherever the reply
/// holds it, so any echo will do: an RFC 862 echo, the tutorial's `ack: ` server, socat.
///
/// With ``timestamps`` `.kernel`, a round trip is by the kernel's stamps where both came: the probe's send
/// stamp (`SendReport.kernelTimestamp`, matched to the probe by the `stampID` of its `SendReport.sent`) and
/// the reply's receive stamp (`ReceiveInfo.timestamp`). Otherwise, and always beside them, it is by the
/// monotonic instants the driver passes with the send report and with the datagram.
///
/// ```swift
/// let socket = try UDPSocket(family: server.family)
/// try socket.connect(to: server)
/// let unavailable = PingSession.prepare(socket, timestamps: .kernel)
/// var session = PingSession(target: server, count: 10, interval: .seconds(1), size: 64, timeout: .seconds(2),
///                           timestamps: unavailable == nil ? .kernel : .user)
/// var driver = MachineDriver(stop: stop)
/// driver.reportsEverySendError = true  // the session judges them: ENOBUFS or a refusal, it goes on
/// if try driver.run(&session, on: socket, onEvent: { print($0) }) != .finished { session.stop(at: .now()) }
/// if let error = session.error { throw error }
/// print(session.summary.counts)
/// ```
public struct PingSession: DatagramMachine {
    /// The echo server the probes go to.
    public let target: SocketAddress
    /// Probes to send; 0 sends until stopped.
    public let count: Int
    /// Time from one probe to the next (after a stall, one probe goes at once and the rhythm resumes).
    public let interval: Duration
    /// Payload bytes in each probe.
    public let size: Int
    /// How long a probe waits for its reply before it is lost.
    public let timeout: Duration
    /// The clock that measures the round trips: `.kernel` only for a socket with the kernel's stamps on.
    public let timestamps: Timestamps
    /// The error of a send that ended the run: one the driver reported that ping(8) does not go on after (no
    /// such device, an address not available, a datagram too long; with the driver's `reportsEverySendError`,
    /// any). The run's caller reports it on.
    public internal(set) var error: UDPError?

    /// A probe given to the driver whose send report has not come yet; `resend` once its first try failed on
    /// an error the probes go on after.
    struct Unreported {
        var sequence: UInt64
        var tries: Int
        var resend = false
    }

    let probe: Probe
    /// The tracker behind a reference, since it owns its ring (`~Copyable`) and a machine is copyable; see
    /// ``changingTracker()``.
    var trackerBox: ProbeTrackerBox
    var latency: LatencyRecorder
    /// The user-space round trips, kept beside the kernel's when those are the main figures.
    var userLatency: LatencyRecorder
    var kernelRoundTrips: KernelRoundTrips
    var clockSteps = 0
    var foreign = 0
    var errors = 0
    var icmpErrors = 0
    /// Probes given to send, including any the kernel refused: the count is of these.
    var attempts = 0
    /// The probe's bytes, rewritten in place for each probe (a send shares them, so no allocation each time).
    var request: [UInt8]
    var unreported: Unreported?
    /// When the next probe is due; nil before the first, which goes at once.
    var nextSend: MonotonicInstant?
    var started: MonotonicInstant?
    var ended: MonotonicInstant?
    /// The latest instant the machine was told: the end of a summary read before the run ended.
    var latest = MonotonicInstant.zero
    /// The events not yet polled, at most every loss one timeout can bring and then some; those dropped
    /// because nobody polled are counted. The driver polls after every input, so none is ever dropped there.
    var events: MachineQueue<Event>
    /// With a key (`seal(with:)`, PingSession+Sealing.swift, the package trait `Sealing`): probes go out sealed,
    /// and replies that do not open count as foreign. Nil in the clear.
    var sealing: (any DatagramSealing)?

    /// Sends tried for one probe: a send that fails on the error an earlier probe drew (reported, and cleared by
    /// being reported) gets one more.
    static let sendTries = 2

    /// - Parameters:
    ///   - target: Where the probes go (the socket is connected to it).
    ///   - count: Probes to send; 0 sends until stopped.
    ///   - interval: Time between probes, above zero.
    ///   - size: Payload bytes per probe, at least ``Probe/headerSize``.
    ///   - timeout: How long a probe waits for its reply before it is lost.
    ///   - timestamps: The clock for round trips: `.kernel` where ``prepare(_:timestamps:)`` turned the kernel's
    ///     stamps on, else `.user`.
    ///   - runID: The id every probe carries; random by default, so that another run's replies are not taken.
    public init(
        target: SocketAddress,
        count: Int,
        interval: Duration,
        size: Int,
        timeout: Duration,
        timestamps: Timestamps = .kernel,
        runID: UInt64 = .random(in: .min ... .max)
    ) {
        precondition(size >= Probe.headerSize, "a probe needs \(Probe.headerSize) bytes")
        precondition(interval > .zero, "probes need an interval")
        self.target = target
        self.count = count
        self.interval = interval
        self.size = size
        self.timeout = timeout
        self.timestamps = timestamps
        let intervalNanoseconds = MonotonicClock.nanoseconds(interval)
        let timeoutNanoseconds = MonotonicClock.nanoseconds(timeout)
        // Enough slots for every probe that can be in flight within the timeout, and then some, so a
        // duplicate of a recent probe is still recognised; bounded, so that no timeout costs more than 16 MiB.
        let inFlight = (Double(timeoutNanoseconds) / Double(max(intervalNanoseconds, 1))).rounded(.up) + 2
        let capacity = max(64, Int(min(inFlight, Double(1 << 20))))
        probe = Probe(runID: runID)
        trackerBox = ProbeTrackerBox(ProbeTracker(capacity: capacity, lossTimeout: timeoutNanoseconds))
        latency = LatencyRecorder(highestNanoseconds: timeoutNanoseconds)
        userLatency = LatencyRecorder(highestNanoseconds: timeoutNanoseconds)
        kernelRoundTrips = KernelRoundTrips(capacity: capacity)
        events = MachineQueue(limit: trackerBox.tracker.capacity + 64)
        request = probe.payload(sequence: 0, size: size)
    }

    /// The statistics so far (final once the session ``isFinished``).
    public var summary: LatencySummary {
        let start = started ?? latest
        let end = ended ?? latest
        return LatencySummary(
            counts: tracker.counts,
            foreign: foreign,
            errors: errors,
            icmpErrors: icmpErrors,
            latency: latency,
            userLatency: userLatency,
            timestamps: timestamps.rawValue,
            clockSteps: clockSteps,
            duration: end > start ? end - start : .zero,
            payloadSize: size
        )
    }

    /// Probes sent and not yet answered or lost: `summary.counts.sent` is always `received + lost` and these.
    public var inFlight: Int { tracker.inFlight }

    /// True once ``count`` probes were sent and each answered or lost, after ``stop(at:)``, or after a send
    /// error that ends the run (``error``).
    public var isFinished: Bool { ended != nil }

    /// The next probe's time, or the oldest probe's loss, whichever comes first.
    public var nextDeadline: MonotonicInstant? {
        guard ended == nil else { return nil }
        let loss = tracker.nextDeadline.map(MonotonicInstant.init(nanoseconds:))
        guard hasMoreToSend, unreported == nil else { return loss }
        let send = nextSend ?? latest
        return loss.map { min($0, send) } ?? send
    }

    /// The next probe when it is due, or the second try of one whose first failed.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        note(now)
        if var pending = unreported {
            guard pending.resend else { return nil }  // its report has not come yet
            pending.resend = false
            unreported = pending
            return datagram()
        }
        guard ended == nil, hasMoreToSend, now >= (nextSend ?? now) else { return nil }
        attempts += 1
        let sequence = tracker.nextSequence
        let probe = probe
        request.withUnsafeMutableBytes { probe.writeHeader(sequence: sequence, into: $0) }
        // After a stall (a suspended process), one probe goes at once and the rhythm resumes from it: a due
        // time already past would send a second at once.
        let following = nextSend.map { $0 + interval } ?? now + interval
        nextSend = following > now ? following : now + interval
        if started == nil { started = now }
        unreported = Unreported(sequence: sequence, tries: 1)
        return datagram()
    }

    /// The next event, in order.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    /// Ends the run at `now`, as a stop signal does: every probe still in flight counts as lost (with no
    /// event), and the summary's time ends here.
    public mutating func stop(at now: MonotonicInstant) {
        note(now)
        end(at: now)
    }

    /// Whether another probe is to go: always when ``count`` is 0.
    var hasMoreToSend: Bool { count == 0 || attempts < count }

    /// The tracker, to read.
    var tracker: ProbeTracker {
        _read { yield trackerBox.tracker }
    }

    /// The tracker, to change: this machine's own first, if a copy of it shares the one it holds.
    mutating func changingTracker() -> ProbeTrackerBox {
        if !isKnownUniquelyReferenced(&trackerBox) { trackerBox = ProbeTrackerBox(trackerBox.tracker.copy()) }
        return trackerBox
    }

    /// The probe in `request`, sealed where there is a key.
    private mutating func datagram() -> OutboundDatagram {
        if sealing != nil { return OutboundDatagram(sealing!.seal(request), to: target) }
        return OutboundDatagram(request, to: target)
    }

    mutating func note(_ now: MonotonicInstant) {
        latest = max(latest, now)
    }

    /// Queues `event`, unless nobody has polled the last ones the queue holds.
    mutating func emit(_ event: Event) {
        events.append(event)
    }

    /// Ends the run at `now` when every probe was sent and answered or lost.
    mutating func endIfDone(at now: MonotonicInstant) {
        if !hasMoreToSend, unreported == nil, tracker.inFlight == 0 { end(at: now) }
    }

    mutating func end(at now: MonotonicInstant) {
        guard ended == nil else { return }
        ended = now
        unreported = nil
        changingTracker().tracker.finish()
    }
}

/// A ``ProbeTracker`` behind a reference, for ``PingSession``, which copies it before changing it when shared.
final class ProbeTrackerBox {
    var tracker: ProbeTracker

    init(_ tracker: consuming ProbeTracker) {
        self.tracker = tracker
    }
}
