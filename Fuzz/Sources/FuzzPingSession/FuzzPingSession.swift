import FuzzDriver
import FuzzMachine
import UDP
import UDPPatterns
import UDPTools

// The ping session against a script of echoes (of probes sent, never sent, or another run's), garbage, ICMP
// errors and time, with the kernel's stamps or without (and with a clock step between them): it never crashes,
// its counters add up (sent = received + lost + in flight; each reply event counted once, by its kind), it
// never loses a probe before its timeout nor waits past it, each reply's round trip is the time since its
// probe left, it never sends more than its count, and its next deadline is always ahead of the clock until it
// is done. The run id is fixed (0x55445050), so that a seed can hold real echoes of probes 1, 2, 3…

/// The session, with every input and event checked against a record of what was sent and when.
struct CheckedPing: DatagramMachine {
    static let runID: UInt64 = 0x5544_5050
    static let size = 32

    var session: PingSession
    let timeout: Duration
    let interval: Duration
    /// Whether the kernel's stamps come: each send's right after its report, each datagram's with it.
    let kernelStamps: Bool
    /// How far the send stamps are off the receive stamps' clock: a step of the wall clock when not zero.
    let stampShift: UInt64
    var now = MonotonicInstant.zero
    var sentAt: [UInt64: MonotonicInstant] = [:]
    var pending: Set<UInt64> = []
    var answered: Set<UInt64> = []
    var lost: Set<UInt64> = []
    var sends = 0
    var lastSend: MonotonicInstant?
    var firsts = 0
    var duplicates = 0
    var lates = 0
    var icmpErrors = 0
    var ignored = 0
    var datagramsTaken = 0

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        self.now = now
        if !session.isFinished { datagramsTaken += 1 }
        var datagram = datagram
        if kernelStamps { datagram.info.timestamp = datagram.receivedAt }
        session.handleDatagram(datagram, at: now)
    }

    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        self.now = now
        session.handleDeliveryError(error, socket: socket, at: now)
    }

    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        self.now = now
        session.handleSendReport(report, at: now)
        guard case .sent(let datagram, _, let wallTime, let stampID) = report else { return }
        let sequence = datagram.payload.withUnsafeBytes {
            Probe(runID: Self.runID).sequence(in: $0, requestSize: Self.size)
        }
        guard let sequence, datagram.payload.count == Self.size else { fatalError("sent no probe: \(datagram)") }
        guard sentAt[sequence] == nil else { fatalError("probe \(sequence) sent twice") }
        if let lastSend, now < lastSend + interval { fatalError("probe \(sequence) sent \(now - lastSend) after one") }
        sentAt[sequence] = now
        pending.insert(sequence)
        sends += 1
        lastSend = now
        if kernelStamps {
            let time = WallClockTime(nanosecondsSince1970: wallTime.nanosecondsSince1970 &+ stampShift)
            session.handleSendReport(.kernelTimestamp(id: stampID, socket: 0, time: time), at: now)
        }
    }

    mutating func handleTimeout(at now: MonotonicInstant) {
        self.now = now
        session.handleTimeout(at: now)
    }

    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        self.now = now
        return session.pollTransmit(at: now)
    }

    mutating func pollEvent() -> PingSession.Event? {
        guard let event = session.pollEvent() else { return nil }
        switch event {
        case .lost(let sequence):
            guard let sent = sentAt[sequence], pending.remove(sequence) != nil else {
                fatalError("lost \(sequence), which was not in flight")
            }
            if now < sent + timeout { fatalError("probe \(sequence) lost \(now - sent) after it left: early") }
            lost.insert(sequence)
        case .reply(_, _, let sequence, let kind, let clock):
            guard let sent = sentAt[sequence] else { fatalError("a reply to \(sequence), never sent") }
            let roundTrip = now - sent
            switch kind {
            case .first(let measured):
                guard pending.remove(sequence) != nil else { fatalError("a first reply to \(sequence) twice") }
                if roundTrip >= timeout { fatalError("a first reply after the timeout: \(roundTrip)") }
                if measured != roundTrip { fatalError("round trip \(measured), not \(roundTrip) (\(clock))") }
                if stampShift != 0, clock == .kernel { fatalError("a stepped clock measured a round trip") }
                answered.insert(sequence)
                firsts += 1
            case .duplicate(let measured):
                guard answered.contains(sequence) else { fatalError("a duplicate of \(sequence), not answered") }
                if measured != roundTrip { fatalError("duplicate's round trip \(measured), not \(roundTrip)") }
                duplicates += 1
            case .late(let measured):
                if pending.remove(sequence) != nil {
                    // Its timeout passed before the timer fired: lost now, with no event of its own.
                    if roundTrip < timeout { fatalError("late after \(roundTrip), within the timeout") }
                    lost.insert(sequence)
                } else if !lost.contains(sequence) && measured != nil {
                    fatalError("late reply to \(sequence), neither lost nor forgotten")
                }
                if let measured, measured != roundTrip { fatalError("late round trip \(measured), not \(roundTrip)") }
                lates += 1
            }
        case .ignored(_, _, let reason):
            if case .neverSent(let sequence) = reason, sentAt[sequence] != nil {
                fatalError("probe \(sequence) was sent, yet its reply was taken for a stranger's")
            }
            ignored += 1
        case .icmpError:
            icmpErrors += 1
        case .pathError:
            fatalError("no send failed, yet a path error")
        }
        return event
    }

    var nextDeadline: MonotonicInstant? { session.nextDeadline }
    var isFinished: Bool { session.isFinished }

    /// Everything that must hold between steps.
    func check(at now: MonotonicInstant) {
        let summary = session.summary
        let counts = summary.counts
        guard counts.sent == counts.received + counts.lost + session.inFlight, session.inFlight >= 0 else {
            fatalError("counts do not add up: \(counts), \(session.inFlight) in flight")
        }
        guard counts.sent == sends, session.count == 0 || sends <= session.count else {
            fatalError("\(counts.sent) sent, \(sends) reported, count \(session.count)")
        }
        guard counts.received == firsts, counts.duplicates == duplicates, counts.late == lates,
            counts.received == answered.count, session.inFlight == pending.count, counts.lost == lost.count
        else { fatalError("counts \(counts) against events: \(firsts) \(duplicates) \(lates) \(lost.count)") }
        guard summary.icmpErrors == icmpErrors, summary.foreign == ignored, summary.errors == 0 else {
            fatalError("\(summary.icmpErrors) icmp errors, \(summary.foreign) foreign")
        }
        if stampShift != 0 && summary.latency.count > 0 && session.timestamps == .kernel {
            fatalError("a kernel sample across a clock step")
        }
        guard !session.isFinished else {
            if session.nextDeadline != nil { fatalError("finished, with a deadline") }
            if session.count == 0 { fatalError("a session without a count finished unstopped") }
            return
        }
        guard let deadline = session.nextDeadline else { fatalError("running, with no deadline") }
        if deadline <= now { fatalError("the deadline \(deadline) is not ahead of \(now)") }
        // Never late: the oldest probe in flight's loss, and the next probe's time.
        if let oldest = pending.compactMap({ sentAt[$0] }).min(), deadline > oldest + timeout {
            fatalError("the deadline \(deadline) is past a probe's loss at \(oldest + timeout)")
        }
        if let lastSend, session.count == 0 || sends < session.count, deadline > lastSend + interval {
            fatalError("the deadline \(deadline) is past the next probe's time")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count >= 2 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let server = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 2, 2)), port: 7)
    let router = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 1, 1)), port: 7)
    // The first two bytes choose the run: count (0 until stopped), interval, timeout and the clock. Intervals of
    // 200 ms and more let a script step of up to 65 s fire every deadline on its way.
    let intervals: [Duration] = [.milliseconds(200), .milliseconds(500), .seconds(1), .seconds(3)]
    let timeouts: [Duration] = [.milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)]
    let interval = intervals[Int(bytes[1] & 3)]
    let timeout = timeouts[Int(bytes[1] >> 2 & 3)]
    let kernel = bytes[1] & 0x10 != 0
    var machine = CheckedPing(
        session: PingSession(
            target: server,
            count: Int(bytes[0] % 8),
            interval: interval,
            size: CheckedPing.size,
            timeout: timeout,
            timestamps: kernel ? .kernel : .user,
            runID: CheckedPing.runID
        ),
        timeout: timeout,
        interval: interval,
        kernelStamps: kernel && bytes[1] & 0x20 != 0,
        stampShift: bytes[1] & 0x40 != 0 ? 3_600_000_000_000 : 0
    )
    MachineScript(peers: [server, router]).play(Array(bytes[2...]), on: &machine) { machine, now in
        machine.check(at: now)
    }
    return 0
}

@_cdecl("FuzzPingSession_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
