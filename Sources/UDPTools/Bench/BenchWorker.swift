import UDP

/// One `udp bench` worker: a connected socket of its own, a window of probes in flight, batch sends and
/// receives, and a tracker that times every reply; a ``BatchMachine`` that ``run(_:index:board:)`` runs on a
/// ``BatchDriver``, on a thread of its own.
///
/// The steady state allocates nothing: both batches, the tracker's ring and the histograms are allocated
/// before the first send, probes are written in place into the send batch, and replies are read where
/// `recvmmsg` put them. Sealed probes (`--key-file`) are the exception: sealing and opening make new arrays,
/// a cost a load generator for an authenticated server accepts.
public struct BenchWorker: ~Copyable {
    /// What one worker sends, where, how fast and for how long.
    public struct Configuration: Sendable {
        /// The echo server; the worker's socket is connected to it.
        public var destination: SocketAddress
        /// Bytes of each probe before sealing, at least ``Probe/headerSize``.
        public var payloadSize: Int
        /// Probes in flight at most.
        public var window: Int
        /// Probes per second for this worker; 0 sends as fast as the window allows.
        public var rate: Double
        /// How long a probe may go without a reply before it is lost, freeing its place in the window.
        public var lossTimeout: Duration
        /// When to start sending: the pacer's first release.
        public var start: MonotonicInstant
        /// When to stop sending; the probes then in flight get their ``lossTimeout`` to come back.
        public var end: MonotonicInstant
        /// Whether to publish counts to the board for the live line.
        public var live: Bool
        /// Whether probes go out as GSO trains and replies may come in as GRO trains.
        public var offload: Bool
        /// The key behind `sealKey` (BenchWorker+Sealing.swift, the package trait `Sealing`); nil sends probes
        /// in the clear, and is all a build without the trait has.
        var sealing: (any DatagramSealingKey)? = nil
        /// Asked before each send: true stops the run early, as SIGINT does for `udp bench`.
        public var stopRequested: @Sendable () -> Bool = { false }

        /// Each parameter sets the property of the same name.
        ///
        /// - Parameters:
        ///   - destination: The echo server.
        ///   - payloadSize: Bytes of each probe before sealing, at least ``Probe/headerSize``.
        ///   - window: Probes in flight at most.
        ///   - rate: Probes per second for this worker; 0 sends as fast as the window allows.
        ///   - lossTimeout: How long a probe may go without a reply before it is lost.
        ///   - start: When to start sending.
        ///   - end: When to stop sending.
        ///   - live: Whether to publish counts to the board for the live line.
        ///   - offload: Whether probes go out as GSO trains and replies may come in as GRO trains.
        ///   - stopRequested: Asked before each send: true stops the run early.
        public init(
            destination: SocketAddress,
            payloadSize: Int,
            window: Int,
            rate: Double,
            lossTimeout: Duration,
            start: MonotonicInstant,
            end: MonotonicInstant,
            live: Bool,
            offload: Bool,
            stopRequested: @escaping @Sendable () -> Bool = { false }
        ) {
            self.destination = destination
            self.payloadSize = payloadSize
            self.window = window
            self.rate = rate
            self.lossTimeout = lossTimeout
            self.start = start
            self.end = end
            self.live = live
            self.offload = offload
            self.stopRequested = stopRequested
        }

        /// Bytes of each probe on the wire: the payload, plus the envelope when sealed.
        public var wireSize: Int { payloadSize + (sealing?.sealedOverhead ?? 0) }
    }

    /// What a worker ends with.
    public struct Result: Sendable {
        /// What became of the worker's probes.
        public var counts = ProbeCounts()
        /// Replies that held no probe of this worker (or, sealed, did not open) and sequence numbers never sent.
        public var foreign = 0
        /// Errors the kernel reported instead of a send or a receive: ICMP port unreachable, as
        /// `connection refused`.
        public var errors = 0
        /// The round trip of every first reply within the loss timeout.
        public var latency: LatencyRecorder
        /// When it stopped sending: at the end of the duration, or earlier on SIGINT.
        public var stoppedAt = MonotonicInstant.zero
        /// Why it stopped early: the socket error that ended it.
        public var failure: UDPError?
    }

    /// Datagrams per system call: what NIO's vector reads and `udp echo` use.
    public static let batchSize = 64
    /// How long a wait may last before the loop looks at the clock, the stop flag and the board again.
    private static let wakeInterval: UInt64 = 50_000_000
    /// How often the live line's counts are published.
    private static let publishInterval: UInt64 = 100_000_000

    private let configuration: Configuration
    private let index: Int
    private let board: BenchBoard
    private let probe: Probe
    private var tracker: ProbeTracker
    private var latency: LatencyRecorder
    /// Round trips since the last publication, for the live line's percentile.
    private var recent: LatencyRecorder
    private var pacer: Pacer
    private var outgoing: DatagramBatch
    private var incoming: DatagramBatch
    /// Send slots whose bytes have been zeroed (once each: the probe headers are all that change).
    private var zeroedSlots = 0
    /// Probes per send slot: 1, or up to 64 in a GSO train.
    private let probesPerSlot: Int
    /// How many probes each send slot of the current batch holds (allocated once, `outgoing.capacity` long).
    private var slotProbes: [Int]
    /// Seals the probes and opens the replies, with the package trait `Sealing` and a key; nil in the clear.
    private var sealing: (any DatagramSealing)?
    private var foreign = 0
    private var errors = 0
    private var stoppedAt: UInt64 = 0
    private var nextPublication: UInt64 = 0
    /// Whether probes still go out; after the end, the probes in flight have until `drainUntil` to come back.
    private var sending = true
    private var drainUntil: UInt64 = 0
    private var finished = false
    /// When ``advance(at:send:)`` is next due: at once while the window has room.
    private var wakeAt = MonotonicInstant.zero
    /// The error that ended the run: a send that no retry could help.
    private var failure: UDPError?

    /// Runs worker `index` to the end of the configured time, and returns its counts and round trips.
    public static func run(_ configuration: Configuration, index: Int, board: BenchBoard) -> Result {
        defer { board.finished() }
        var worker = BenchWorker(configuration, index: index, board: board)
        do throws(UDPError) {
            let socket = try UDPSocket(family: configuration.destination.family)
            try socket.connect(to: configuration.destination)
            // Neither a full send queue nor a receive after a spurious wakeup may block for long.
            try socket.setSendTimeout(.milliseconds(100))
            try socket.setReceiveTimeout(.milliseconds(100))
            // Replies to trains come back as trains from GSO servers; GRO hands each over in one buffer.
            if configuration.offload { try? socket.setGenericReceiveOffload(true) }
            // Ended by the clock, the caller's stop and the board, all of which the worker itself looks at.
            try BatchDriver(stop: nil).run(&worker, on: socket) { _ in }
            if let failure = worker.failure { throw failure }
            return worker.result(failure: nil)
        } catch {
            board.abort()
            return worker.result(failure: error)
        }
    }

    private init(_ configuration: Configuration, index: Int, board: BenchBoard) {
        self.configuration = configuration
        self.index = index
        self.board = board
        probe = Probe()
        // A sealing of this worker's own: a sender id of its own, sequence numbers of its own.
        sealing = configuration.sealing?.clientSealing()
        // 65536 slots cover a 200 ms loss timeout at 300k datagrams per second, loopback's pace on a small
        // machine; a probe overtaken by that many others is counted lost even before its timeout.
        tracker = ProbeTracker(capacity: max(65_536, configuration.window * 4), lossTimeout: configuration.lossTimeout)
        latency = LatencyRecorder(highest: configuration.lossTimeout)
        recent = LatencyRecorder(highest: configuration.lossTimeout)
        pacer = Pacer(rate: configuration.rate, start: configuration.start, burst: configuration.window)
        // With offload, a slot carries a GSO train: as many probes as one send takes (64, and 65507 bytes).
        probesPerSlot =
            configuration.offload
            ? max(1, min(DatagramBatch.maximumSegments, 65_507 / configuration.wireSize, configuration.window)) : 1
        let slots = min(Self.batchSize, (configuration.window + probesPerSlot - 1) / probesPerSlot)
        outgoing = DatagramBatch(capacity: slots, bufferSize: configuration.wireSize * probesPerSlot)
        slotProbes = Array(repeating: 0, count: slots)
        // Room for what a server adds around the probe; a longer reply is cut, and its probe still found
        // unless the server put it at the very end. A GRO train needs the full 64 KiB.
        incoming = DatagramBatch(
            capacity: Self.batchSize,
            bufferSize: configuration.offload ? 65_535 : min(65_535, configuration.payloadSize + 4096)
        )
    }

    private func result(failure: UDPError?) -> Result {
        Result(
            counts: tracker.counts,
            foreign: foreign,
            errors: errors,
            latency: latency,
            stoppedAt: MonotonicInstant(nanoseconds: stoppedAt),
            failure: failure
        )
    }

    /// Expires what is overdue, ends the sending at the end of the run and the run once the replies are in,
    /// publishes, sends what the window allows, and works out when it must next be woken.
    private mutating func advance(at instant: MonotonicInstant, send: BatchSend) {
        let now = instant.nanoseconds
        tracker.expire(now: now)
        if sending && (now >= configuration.end.nanoseconds || configuration.stopRequested() || board.isAborted) {
            // Stop sending, and give the probes in flight their full timeout to come back.
            sending = false
            stoppedAt = now
            drainUntil = now + MonotonicClock.nanoseconds(configuration.lossTimeout)
        }
        if !sending && (tracker.inFlight == 0 || now >= drainUntil || board.isAborted) {
            tracker.finish()
            if configuration.live { board.publish(worker: index, counts: tracker.counts, latency: &recent) }
            finished = true
            return
        }
        if configuration.live && now >= nextPublication {
            board.publish(worker: index, counts: tracker.counts, latency: &recent)
            nextPublication = now + Self.publishInterval
        }
        var roomLeft = false
        if sending {
            sendWhatTheWindowAllows(send, now: now)
            roomLeft = tracker.inFlight < configuration.window && pacer.available(at: now) > 0
        }
        // Room left in the window (a full send queue cut the sending short): a look at the replies that does
        // not wait, then more.
        var wake = min(now + Self.wakeInterval, sending ? configuration.end.nanoseconds : drainUntil)
        if let deadline = tracker.nextDeadline { wake = min(wake, deadline) }
        if sending, let release = pacer.nextRelease { wake = min(wake, release) }
        wakeAt = MonotonicInstant(nanoseconds: roomLeft ? now : wake)
    }

    /// Fills the window (or what the pacer allows) with probes, a batch at a time.
    private mutating func sendWhatTheWindowAllows(_ send: BatchSend, now: UInt64) {
        var room = min(configuration.window - tracker.inFlight, pacer.available(at: now))
        while room > 0 {
            let count = min(room, outgoing.capacity * probesPerSlot)
            fillBatch(count)
            var next = 0
            var refusals = 0
            while next < outgoing.count {
                let sentAt = MonotonicClock.now()
                do throws(UDPError) {
                    let sent = try send(&outgoing, next, 0)
                    var probes = 0
                    for slot in next..<next + sent { probes += slotProbes[slot] }
                    tracker.sent(probes, at: sentAt)
                    pacer.consume(probes)
                    next += sent
                } catch {
                    if error.code == .connectionRefused {
                        // An ICMP port unreachable for an earlier probe, reported instead of this send and
                        // cleared by reporting it: one more try.
                        errors += 1
                        refusals += 1
                        if refusals > 1 { return }
                    } else if error.code == .timedOut || error.code == .wouldBlock || error.errno == .noBufferSpace {
                        return  // the send queue is full: let replies drain it
                    } else {
                        failure = error
                        finished = true
                        return
                    }
                }
            }
            room -= count
        }
    }

    /// Writes `count` probes, ``ProbeTracker/nextSequence`` and on, into the send batch: one a slot, or
    /// trains of ``probesPerSlot`` with offload.
    private mutating func fillBatch(_ count: Int) {
        let probe = probe
        let wireSize = configuration.wireSize
        let destination = configuration.destination
        let size = configuration.payloadSize
        // Moved out: the closure below writes into `outgoing`, so it may not touch `self` as well.
        var sealing = sealing.take()
        defer { self.sealing = sealing }
        var sequence = tracker.nextSequence
        let zeroed = zeroedSlots
        outgoing.removeAll()
        var left = count
        var slot = 0
        while left > 0 {
            let probes = min(left, probesPerSlot)
            let first = sequence
            outgoing.append(to: destination, segmentSize: probes > 1 ? wireSize : nil) { buffer in
                if slot >= zeroed {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[..<buffer.count])
                        .initializeMemory(as: UInt8.self, repeating: 0)
                }
                // One nil check a slot in the clear; sealed, a new array a probe (the cost the type's comment owns).
                if sealing != nil {
                    for index in 0..<probes {
                        let start = index * wireSize
                        let bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<start + wireSize])
                        bytes.copyBytes(from: sealing!.seal(probe.payload(sequence: first + UInt64(index), size: size)))
                    }
                    return probes * wireSize
                }
                for index in 0..<probes {
                    let start = index * wireSize
                    let bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<start + wireSize])
                    probe.writeHeader(sequence: first + UInt64(index), into: bytes)
                }
                return probes * wireSize
            }
            slotProbes[slot] = probes
            sequence += UInt64(probes)
            left -= probes
            slot += 1
        }
        zeroedSlots = max(zeroed, slot)
    }

    /// Finds the probe in each reply, and counts its round trip; then sends what the freed window allows.
    private mutating func handleReplies(_ received: Int, at instant: MonotonicInstant, send: BatchSend) {
        let now = instant.nanoseconds
        let size = configuration.payloadSize
        for slot in 0..<received {
            for segment in 0..<incoming.segmentCount(at: slot) {
                var found: UInt64?
                if sealing != nil {
                    // A reply that does not open (forged, replayed, another key) is foreign, like a stranger's.
                    if case .success(let opened) = sealing!.open(Array(incoming.segment(segment, at: slot))) {
                        found = opened.withUnsafeBytes { probe.sequence(in: $0, requestSize: size) }
                    }
                } else {
                    found = probe.sequence(in: incoming.segment(segment, at: slot), requestSize: size)
                }
                guard let sequence = found else {
                    foreign += 1
                    continue
                }
                switch tracker.handleReply(sequence: sequence, at: now) {
                case .received(let roundTrip, _):
                    latency.record(nanoseconds: roundTrip)
                    if configuration.live { recent.record(nanoseconds: roundTrip) }
                case .unknown:
                    foreign += 1
                case .duplicate, .late:
                    break
                }
            }
        }
        advance(at: instant, send: send)
    }
}

extension BenchWorker: BatchMachine {
    /// A worker tells nothing as it goes: its board has the live counts, and its result the rest.
    public typealias Event = Never

    /// The batch replies are received into, sized for what the server sends back.
    public mutating func withReceiveBatch<Output: ~Copyable, Failure: Error>(
        _ body: (inout DatagramBatch) throws(Failure) -> Output
    ) throws(Failure) -> Output {
        try body(&incoming)
    }

    /// Takes the replies in slots `0..<count`, then sends what the window has room for.
    public mutating func handleReceived(_ count: Int, socket: Int, at now: MonotonicInstant, send: BatchSend) {
        handleReplies(count, at: now, send: send)
    }

    /// Counts an ICMP error (port unreachable, most often: no server) that failed a receive.
    public mutating func handleDeliveryError(_ error: DeliveryError?, socket: Int, at now: MonotonicInstant) {
        errors += 1
    }

    /// Expires, publishes, and sends what the window and the pacer allow.
    public mutating func handleTimeout(at now: MonotonicInstant, send: BatchSend) {
        advance(at: now, send: send)
    }

    /// When the worker must look again: a loss timeout, the pacer's next release, the end, or at once.
    public var nextDeadline: MonotonicInstant? { wakeAt }

    /// Whether the run is over: the end came and the replies are in, or their time ran out.
    public var isFinished: Bool { finished }

    /// Never an event.
    public mutating func pollEvent() -> Never? { nil }
}
