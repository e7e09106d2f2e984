import Testing
import UDP
import UDPPatterns
import UDPTools

/// A ping session on UDPPatterns' fake-clock harness, driven in the driver's order: it sends what the session
/// gives (reporting it sent, or failed with the next of `failingSends`), takes its events after every input, and
/// fires each deadline on time. The wall clock is a fixed distance from the monotonic one.
private typealias PingRun = MachineHarness<PingSession>

extension MachineHarness where Machine == PingSession {
    static var server: SocketAddress { SocketAddress(IPv4Address(198, 18, 2, 2), port: 7) }
    static var runID: UInt64 { 0x0055_4450 }
    /// The wall clock at the monotonic clock's origin.
    static var wallAtZero: UInt64 { 1_800_000_000_000_000_000 }

    init(
        count: Int = 0,
        interval: Duration = .seconds(1),
        timeout: Duration = .milliseconds(500),
        timestamps: PingSession.Timestamps = .user,
        failures: [UDPError] = []
    ) {
        let session = PingSession(
            target: Self.server,
            count: count,
            interval: interval,
            size: 32,
            timeout: timeout,
            timestamps: timestamps,
            runID: Self.runID
        )
        self.init(
            session,
            wallClockAtZero: WallClockTime(nanosecondsSince1970: Self.wallAtZero),
            failingSends: failures
        )
        // Set after the first drain, which it would have checked too: the session probes only its target.
        checkSend = { #expect($0.destination == Self.server) }
        #expect(sent.allSatisfy { $0.datagram.destination == Self.server })
    }

    /// The session driven.
    var session: PingSession {
        get { machine }
        set { machine = newValue }
    }

    /// The payload of probe `sequence` of run `runID`, as an echo returns it.
    static func probe(_ sequence: UInt64, runID: UInt64 = runID) -> [UInt8] {
        Probe(runID: runID).payload(sequence: sequence, size: 32)
    }

    /// Each probe that left (its send not failed): its sequence number, when, and its stamp number.
    var probes: [(sequence: UInt64, at: MonotonicInstant, stampID: UInt32)] {
        zip(sent, reports).compactMap { sent, report in
            guard case .sent(_, _, _, let stampID) = report else { return nil }
            let sequence = sent.datagram.payload.withUnsafeBytes {
                Probe(runID: Self.runID).sequence(in: $0, requestSize: 32)
            }
            return (sequence ?? 0, sent.at, stampID)
        }
    }

    /// A datagram with `payload` arrives now, stamped by the kernel at `kernelStamp` (wall-clock nanoseconds).
    mutating func receive(_ payload: [UInt8], from sender: SocketAddress = server, kernelStamp: UInt64? = nil) {
        var datagram = InboundDatagram(payload, from: sender)
        datagram.info.timestamp = kernelStamp.map(WallClockTime.init(nanosecondsSince1970:))
        if let kernelStamp { datagram.receivedAt = WallClockTime(nanosecondsSince1970: kernelStamp) }
        receive(datagram)
    }
}

private func replies(_ events: [PingSession.Event]) -> [(UInt64, PingSession.ReplyKind, PingSession.Timestamps)] {
    events.compactMap { event in
        if case .reply(_, _, let sequence, let kind, let clock) = event { (sequence, kind, clock) } else { nil }
    }
}

private func lost(_ events: [PingSession.Event]) -> [UInt64] {
    events.compactMap { event in if case .lost(let sequence) = event { sequence } else { nil } }
}

private func ignored(_ events: [PingSession.Event]) -> [PingSession.IgnoredReason] {
    events.compactMap { event in if case .ignored(_, _, let reason) = event { reason } else { nil } }
}

@Suite struct PingSessionMachineTests {
    @Test func probesAreSpacedByTheInterval() {
        var run = PingRun(count: 4, interval: .milliseconds(250), timeout: .seconds(2))
        #expect(run.probes.map(\.at) == [.zero], "the first probe goes at once")
        #expect(run.session.nextDeadline == .zero + .milliseconds(250))
        run.session.handleTimeout(at: .zero + .milliseconds(249))  // early: nothing
        run.drain()
        #expect(run.probes.count == 1)
        run.advance(to: .zero + .seconds(1))
        #expect(run.probes.map(\.at) == [0, 250, 500, 750].map { .zero + .milliseconds($0) })
        #expect(run.probes.map(\.sequence) == [1, 2, 3, 4])
        #expect(run.session.summary.counts.sent == 4)
        #expect(run.session.inFlight == 4)
    }

    @Test func afterAStallOneProbeGoesAtOnceAndTheRhythmResumes() {
        var run = PingRun(interval: .seconds(1), timeout: .seconds(10))
        // The process was suspended for 3.5 s: one probe when it wakes, the next an interval later.
        run.now = .zero + .milliseconds(3500)
        run.session.handleTimeout(at: run.now)
        run.drain()
        #expect(run.probes.map(\.at) == [.zero, .zero + .milliseconds(3500)])
        #expect(run.session.nextDeadline == .zero + .milliseconds(4500))
    }

    @Test func aReplyWithinTheTimeoutIsTheFirstWithItsRoundTrip() {
        var run = PingRun(count: 2, timeout: .milliseconds(500))
        run.advance(by: .milliseconds(3))
        run.receive(PingRun.probe(1))
        let first = replies(run.takeEvents())
        #expect(first.count == 1)
        #expect(first.first?.0 == 1)
        #expect(first.first?.1 == .first(roundTrip: .milliseconds(3)))
        #expect(first.first?.2 == .user)
        let summary = run.session.summary
        #expect(summary.counts.received == 1 && summary.counts.lost == 0)
        #expect(summary.latency.count == 1 && summary.latency.minimum == .milliseconds(3))
        #expect(summary.timestamps == "user")
    }

    @Test func aProbeIsLostAtItsTimeoutNeverBefore() {
        var run = PingRun(timeout: .milliseconds(500))
        #expect(run.session.nextDeadline == .zero + .milliseconds(500), "the loss comes before the next probe")
        run.session.handleTimeout(at: .zero + .milliseconds(499))
        run.drain()
        #expect(lost(run.events).isEmpty)
        #expect(run.session.inFlight == 1)
        run.advance(to: .zero + .milliseconds(500))
        #expect(lost(run.takeEvents()) == [1])
        #expect(run.session.summary.counts.lost == 1 && run.session.inFlight == 0)
        #expect(run.session.nextDeadline == .zero + .seconds(1), "then the next probe")
    }

    @Test func aSecondReplyIsADuplicateAndOneAfterTheTimeoutIsLate() {
        var run = PingRun(timeout: .milliseconds(500))
        run.advance(by: .milliseconds(2))
        run.receive(PingRun.probe(1))
        run.advance(by: .milliseconds(1))
        run.receive(PingRun.probe(1))
        run.advance(to: .zero + .milliseconds(1600))  // probe 2, sent at 1 s, is lost at 1.5 s
        run.receive(PingRun.probe(2))
        let kinds = replies(run.takeEvents()).map(\.1)
        #expect(
            kinds == [
                .first(roundTrip: .milliseconds(2)), .duplicate(roundTrip: .milliseconds(3)),
                .late(roundTrip: .milliseconds(600)),
            ]
        )
        let counts = run.session.summary.counts
        #expect(counts.received == 1 && counts.duplicates == 1 && counts.late == 1 && counts.lost == 1)
        #expect(run.session.summary.latency.count == 1, "only the first reply is a sample")
    }

    @Test func aDatagramWithNoProbeOrANeverSentSequenceIsIgnoredWithItsReason() {
        var run = PingRun(timeout: .milliseconds(500))
        run.receive(Array("hello".utf8))
        run.receive(PingRun.probe(1, runID: 7))  // another run's probe
        run.receive(PingRun.probe(9))  // this run's id, a sequence number not sent yet
        run.receive(Array("ack: ".utf8) + PingRun.probe(1) + [0xFF])  // an echo that adds bytes: still ours
        let events = run.takeEvents()
        #expect(ignored(events) == [.noProbe, .noProbe, .neverSent(sequence: 9)])
        #expect(replies(events).map(\.0) == [1])
        if case .ignored(let sender, let length, _) = events.first {
            #expect(sender == PingRun.server && length == 5)
        }
        #expect(run.session.summary.foreign == 3)
        #expect(run.session.summary.counts.received == 1)
    }

    @Test func anICMPErrorIsAnEventAndTheProbesGoOn() {
        var run = PingRun(count: 2, timeout: .milliseconds(500))
        let error = DeliveryError(
            origin: .icmp,
            kind: .timeExceeded,
            errno: .hostUnreachable,
            offender: IPAddress("198.18.1.1")!,
            destination: PingRun.server,
            quotedPayload: PingRun.probe(1)
        )
        run.session.handleDeliveryError(error, socket: 0, at: run.now)
        run.drain()
        guard case .icmpError(let event) = run.takeEvents().first else {
            Issue.record("no ICMP error event")
            return
        }
        #expect(event == error)
        run.advance(to: .zero + .seconds(2))
        #expect(run.probes.count == 2)
        #expect(run.session.summary.icmpErrors == 1 && run.session.summary.counts.lost == 2)
        #expect(run.session.isFinished)
    }

    @Test func kernelStampsMeasureTheRoundTripWhenBothCame() throws {
        var run = PingRun(count: 3, timeout: .milliseconds(500), timestamps: .kernel)
        let sentAt = PingRun.wallAtZero + 20_000  // the kernel stamped probe 1 20 µs after the driver's reading
        run.session.handleSendReport(
            .kernelTimestamp(id: run.probes[0].stampID, socket: 0, time: WallClockTime(nanosecondsSince1970: sentAt)),
            at: run.now
        )
        run.advance(by: .milliseconds(1))
        run.receive(PingRun.probe(1), kernelStamp: sentAt + 250_000)
        // Probe 2: its reply came unstamped (the kernel's switch not on yet): the user clock, and the line says so.
        run.advance(to: .zero + .seconds(1) + .milliseconds(2))
        run.receive(PingRun.probe(2))
        // Probe 3: no send stamp read, the receive stamp there: still the user clock.
        run.advance(to: .zero + .seconds(2) + .milliseconds(3))
        run.receive(PingRun.probe(3), kernelStamp: PingRun.wallAtZero + 2_000_000_000)
        let seen = replies(run.takeEvents())
        try #require(seen.count == 3)
        #expect(seen[0].1 == .first(roundTrip: .microseconds(250)) && seen[0].2 == .kernel)
        #expect(seen[1].1 == .first(roundTrip: .milliseconds(2)) && seen[1].2 == .user)
        #expect(seen[2].1 == .first(roundTrip: .milliseconds(3)) && seen[2].2 == .user)
        let summary = run.session.summary
        #expect(summary.timestamps == "kernel")
        #expect(summary.latency.count == 1 && summary.latency.minimum == .microseconds(250), "only the kernel's sample")
        #expect(summary.userLatency?.count == 3, "every first reply by the user clock beside it")
        #expect(summary.clockSteps == 0)
        #expect(run.session.isFinished)
    }

    @Test func aReceiveStampBeforeItsSendStampIsAClockStep() {
        var run = PingRun(count: 1, timeout: .milliseconds(500), timestamps: .kernel)
        let sentAt = PingRun.wallAtZero + 1_000_000
        run.session.handleSendReport(
            .kernelTimestamp(id: 0, socket: 0, time: WallClockTime(nanosecondsSince1970: sentAt)),
            at: run.now
        )
        run.advance(by: .milliseconds(1))
        run.receive(PingRun.probe(1), kernelStamp: sentAt - 1)  // the wall clock stepped back in between
        #expect(replies(run.takeEvents()).map(\.2) == [.user])
        #expect(run.session.summary.clockSteps == 1)
        #expect(run.session.summary.latency.count == 0)
    }

    @Test func theSessionFinishesOnceCountProbesAreAnsweredOrLost() {
        var run = PingRun(count: 3, interval: .milliseconds(100), timeout: .milliseconds(500))
        for sequence in 1...3 {
            #expect(!run.session.isFinished)
            run.advance(by: .milliseconds(10))
            if sequence != 2 { run.receive(PingRun.probe(UInt64(sequence))) }
            run.advance(to: .zero + .milliseconds(100 * sequence))
        }
        #expect(run.probes.count == 3)
        #expect(!run.session.isFinished, "probe 2 is still in flight")
        run.advance(by: .seconds(10))
        #expect(run.session.isFinished)
        #expect(run.now == .zero + .seconds(10) + .milliseconds(300))
        #expect(lost(run.takeEvents()) == [2])
        #expect(run.session.nextDeadline == nil)
        let summary = run.session.summary
        #expect(summary.counts.sent == 3 && summary.counts.received == 2 && summary.counts.lost == 1)
        #expect(summary.duration == .milliseconds(600), "from the first probe to probe 2's loss at 600 ms")
    }

    @Test func aStopLosesWhatIsInFlightWithoutEvents() {
        var run = PingRun(timeout: .seconds(2))
        run.advance(to: .zero + .milliseconds(1500))
        run.session.stop(at: run.now)
        run.drain()
        #expect(run.session.isFinished)
        #expect(run.takeEvents().isEmpty)
        #expect(run.session.summary.counts.sent == 2 && run.session.summary.counts.lost == 2)
        #expect(run.session.summary.duration == .milliseconds(1500))
        #expect(run.session.pollTransmit(at: run.now + .seconds(5)) == nil)
    }

    @Test func aRefusedSendIsReportedAndTriedOnceMore() {
        let refused = UDPError(.send, errno: .connectionRefused)
        var run = PingRun(count: 2, timeout: .milliseconds(500), failures: [refused])
        #expect(run.probes.map(\.sequence) == [1], "the second try went")
        // Both tries of the second probe fail: it counts toward the count, never as sent.
        run.failingSends = [refused, refused]
        run.advance(to: .zero + .seconds(1))
        #expect(run.probes.count == 1)
        let events = run.takeEvents()
        let pathErrors = events.filter { if case .pathError = $0 { true } else { false } }
        #expect(pathErrors.count == 3)
        #expect(lost(events) == [1])
        #expect(run.session.summary.errors == 3 && run.session.summary.counts.sent == 1)
        #expect(run.session.isFinished && run.session.error == nil)
    }

    @Test func aSendErrorPingDoesNotGoOnAfterEndsTheRun() {
        let failure = UDPError(.send, errno: .addressNotAvailable)
        let run = PingRun(count: 5, failures: [failure])
        #expect(run.session.isFinished)
        #expect(run.session.error?.errno == .addressNotAvailable)
        #expect(run.probes.isEmpty && run.events.isEmpty)
    }

    @Test func aCopyOfTheSessionGoesOnAlone() {
        var run = PingRun(timeout: .milliseconds(500))
        let copy = run.session
        run.advance(by: .milliseconds(1))
        run.receive(PingRun.probe(1))
        #expect(run.session.summary.counts.received == 1)
        #expect(copy.summary.counts.received == 0 && copy.inFlight == 1)
    }
}
