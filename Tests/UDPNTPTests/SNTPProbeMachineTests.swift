import Synchronization
import Testing
import UDP
import UDPNTP
import UDPPatterns

/// Nonces 1, 2, 3…: each request's transmit timestamp is known in advance, so a test can answer it.
final class Nonces: Sendable {
    private let last = Mutex<UInt64>(0)

    /// The next nonce.
    func next() -> UInt64 {
        last.withLock { value in
            value += 1
            return value
        }
    }
}

/// An SNTP probe on UDPPatterns' fake-clock harness (the driver's order: send what it gives, report it sent,
/// take its events after every input), with the wall clock a fixed distance from the monotonic one.
typealias ProbeRun = MachineHarness<SNTPProbe>

extension MachineHarness where Machine == SNTPProbe {
    static var server: SocketAddress { SocketAddress(IPv4Address(192, 0, 2, 1), port: 123) }
    /// The wall clock at the monotonic clock's origin.
    static var wallAtZero: UInt64 { 1_800_000_000_000_000_000 }

    init(
        count: Int = 4,
        interval: Duration = .milliseconds(500),
        timeout: Duration = .seconds(1),
        kernelStamps: Bool = false,
        failures: [UDPError] = []
    ) {
        let nonces = Nonces()
        let probe = SNTPProbe(
            server: Self.server,
            count: count,
            interval: interval,
            timeout: timeout,
            kernelStamps: kernelStamps,
            nonce: { nonces.next() }
        )
        self.init(probe, wallClockAtZero: Self.wall(.zero), failingSends: failures)
    }

    /// The probe driven.
    var probe: SNTPProbe {
        get { machine }
        set { machine = newValue }
    }

    /// The wall-clock time at `instant`.
    static func wall(_ instant: MonotonicInstant) -> WallClockTime {
        WallClockTime(nanosecondsSince1970: wallAtZero + instant.nanoseconds)
    }

    /// Runs until the probe finishes, nothing answering.
    mutating func runOut() { runUntilFinished() }

    /// The request last sent.
    var lastRequest: NTPPacket? { sent.last.flatMap { NTPPacket(decoding: $0.datagram.payload) } }

    /// Hands the probe `bytes` from `sender` now, received at `receivedAt` (the wall clock now by default),
    /// with a kernel stamp when `kernelStamp`.
    mutating func deliver(
        _ bytes: [UInt8],
        from sender: SocketAddress = server,
        receivedAt: WallClockTime? = nil,
        kernelStamp: Bool = false
    ) {
        let time = receivedAt ?? Self.wall(now)
        let info = ReceiveInfo(
            count: bytes.count,
            length: bytes.count,
            sender: sender,
            isTruncated: false,
            timestamp: kernelStamp ? time : nil
        )
        receive(InboundDatagram(payload: ArraySlice(bytes), info: info, receivedAt: time))
    }

    /// A server's reply to the last request, received and sent at `t2` and `t3` (the wall clock now by default).
    func reply(stratum: UInt8 = 2, t2: WallClockTime? = nil, t3: WallClockTime? = nil) -> NTPPacket {
        NTPPacket(
            mode: .server,
            stratum: stratum,
            referenceID: 0xC612_0001,
            originTimestamp: lastRequest?.transmitTimestamp ?? .zero,
            receiveTimestamp: NTPTimestamp(t2 ?? Self.wall(now)),
            transmitTimestamp: NTPTimestamp(t3 ?? Self.wall(now))
        )
    }

    /// A kiss-o'-death with `code` for the last request.
    func kiss(_ code: KissCode) -> [UInt8] {
        var packet = reply(stratum: 0)
        packet.referenceID = code.referenceID
        return packet.encoded
    }

    /// A port unreachable about a datagram to `destination` that quotes `quote`.
    static func portUnreachable(to destination: SocketAddress = server, quoting quote: [UInt8]) -> DeliveryError {
        DeliveryError.portUnreachable(to: destination, quoting: quote)
    }

    /// The events in short: `sample 0`, `timeout 1`, `kiss 2 RATE 2s`, `icmp 0`, `ignored`.
    var outline: [String] {
        events.map { event in
            switch event {
            case .sample(let index, _, let clock): "sample \(index) \(clock)"
            case .timeout(let index): "timeout \(index)"
            case .kissOfDeath(let index, let code, let next): "kiss \(index) \(code) \(next.map { "\($0)" } ?? "stop")"
            case .deliveryError(let index, _): "icmp \(index)"
            case .ignored(_, let reason): "ignored \(reason)"
            }
        }
    }

    /// When each request went out, in milliseconds from the start.
    var sendTimes: [Int64] {
        sent.map { Int64(MonotonicInstant.zero.duration(to: $0.at) / .milliseconds(1)) }
    }
}

@Suite struct SNTPProbeMachineTests {
    @Test("requests go out one at a time, an interval apart from one send to the next")
    func requestsAreSpacedByTheInterval() {
        var run = ProbeRun(count: 3, interval: .milliseconds(500), timeout: .seconds(1))
        #expect(run.sent.count == 1, "the first request goes out at once")
        for _ in 0..<3 {
            run.advance(by: .milliseconds(20))
            run.deliver(run.reply().encoded)
            #expect(run.probe.nextDeadline.map { $0 > run.now } ?? run.probe.isFinished)
            run.advance(to: run.sent.last!.at + .milliseconds(500))
        }
        #expect(run.sendTimes == [0, 500, 1_000])
        #expect(run.outline == ["sample 0 user", "sample 1 user", "sample 2 user"])
        #expect(run.probe.isFinished && run.probe.samples.count == 3 && run.probe.lastFailure == nil)
        #expect(run.probe.nextDeadline == nil)
        // The nonces are the injected ones: each request's transmit timestamp, 1, 2, 3.
        let nonces = run.sent.compactMap { NTPPacket(decoding: $0.datagram.payload)?.transmitTimestamp.rawValue }
        #expect(nonces == [1, 2, 3])
    }

    @Test("each request waits the timeout from its send; one that ran past the interval is followed at once")
    func eachRequestTimesOut() {
        var run = ProbeRun(count: 3, interval: .milliseconds(500), timeout: .seconds(1))
        run.runOut()
        #expect(run.sendTimes == [0, 1_000, 2_000])
        #expect(run.outline == ["timeout 0", "timeout 1", "timeout 2"])
        #expect(run.probe.lastFailure == .noReply(timeout: .seconds(1)))
        #expect(run.probe.isFinished && run.probe.samples.isEmpty)
        #expect(run.probe.requestsStarted == 3 && run.probe.requestsEnded == 3)
    }

    @Test("a reply from another address or port is ignored and counted, and the wait goes on")
    func wrongSourceIsIgnored() {
        var run = ProbeRun(count: 1)
        let good = run.reply().encoded
        run.deliver(good, from: SocketAddress(IPv4Address(192, 0, 2, 2), port: 123))
        run.deliver(good, from: SocketAddress(IPv4Address(192, 0, 2, 1), port: 124))
        #expect(!run.probe.isFinished)
        run.deliver(good)
        #expect(run.probe.ignoredByReason[.wrongSource] == 2 && run.probe.ignoredByReason.total == 2)
        #expect(run.outline == ["ignored not from the server", "ignored not from the server", "sample 0 user"])
        guard case .ignored(let sender, _) = run.events[0] else { return }
        #expect(sender == SocketAddress(IPv4Address(192, 0, 2, 2), port: 123))
    }

    @Test("a forged reply, with another origin timestamp, is ignored and counted; the real one still counts")
    func forgedReplyIsIgnored() {
        var run = ProbeRun(count: 1)
        var forged = run.reply()
        forged.originTimestamp = NTPTimestamp(rawValue: 42)
        run.deliver(forged.encoded)
        run.deliver(Array(forged.encoded.prefix(47)))
        var unsynchronised = run.reply()
        unsynchronised.leap = .unsynchronised
        run.deliver(unsynchronised.encoded)
        run.deliver(run.reply().encoded)
        #expect(run.probe.ignoredByReason[.rejected(.wrongOrigin)] == 1)
        #expect(run.probe.ignoredByReason[.rejected(.malformed)] == 1)
        #expect(run.probe.ignoredByReason[.rejected(.unsynchronised)] == 1 && run.probe.ignoredByReason.total == 3)
        #expect(run.probe.samples.count == 1 && run.probe.isFinished)
    }

    @Test("a reply that comes between requests is late: counted by its origin, or its malformation")
    func lateRepliesAreCounted() {
        var run = ProbeRun(count: 2, interval: .seconds(1))
        let answer = run.reply().encoded
        run.deliver(answer)
        run.deliver(answer)
        run.deliver([1, 2, 3])
        #expect(
            run.outline == ["sample 0 user", "ignored wrong origin timestamp", "ignored shorter than an NTP header"]
        )
        #expect(run.sent.count == 1)
    }

    @Test("a kiss-o'-death RATE doubles the interval, to 2 s at least, and the run goes on")
    func rateBacksOff() {
        var run = ProbeRun(count: 4, interval: .milliseconds(500))
        run.deliver(run.kiss(.rate))
        #expect(run.probe.interval == .seconds(2))
        run.advance(to: .zero + .milliseconds(1_999))
        #expect(run.sent.count == 1, "the next request waits the longer interval")
        run.advance(to: .zero + .seconds(2))
        #expect(run.sent.count == 2)
        run.deliver(run.kiss(.rate))
        #expect(run.probe.interval == .seconds(4))
        run.advance(to: .zero + .seconds(6))
        run.deliver(run.reply().encoded)
        #expect(run.sendTimes == [0, 2_000, 6_000])
        #expect(run.outline == ["kiss 0 RATE 2.0 seconds", "kiss 1 RATE 4.0 seconds", "sample 2 user"])
        #expect(run.probe.lastFailure == .kissOfDeath(.rate) && !run.probe.isFinished)
    }

    @Test("RATE backs off to RFC 5905's longest poll interval at most, and never shortens a longer one")
    func rateIsBounded() {
        var run = ProbeRun(count: 30, interval: .seconds(3_600))
        for _ in 0..<8 {
            run.deliver(run.kiss(.rate))
            run.advance(to: run.probe.nextDeadline!)
        }
        #expect(run.probe.interval == SNTPProbe.longestInterval)
        var longer = ProbeRun(count: 2, interval: SNTPProbe.longestInterval * 4)
        longer.deliver(longer.kiss(.rate))
        #expect(longer.probe.interval == SNTPProbe.longestInterval * 4)
    }

    @Test(
        "DENY, RSTR and unknown kiss codes stop the run at once",
        arguments: [KissCode.deny, .restricted, .init(referenceID: 0x4142_4344)]
    )
    func denyStops(code: KissCode) {
        var run = ProbeRun(count: 4)
        run.deliver(run.kiss(code))
        #expect(run.probe.isFinished && run.probe.nextDeadline == nil)
        #expect(run.outline == ["kiss 0 \(code) stop"])
        #expect(run.probe.lastFailure == .kissOfDeath(code))
        run.advance(by: .seconds(10))
        #expect(run.sent.count == 1)
    }

    @Test("an ICMP error quoting the request ends it; one quoting another, too little, or elsewhere is counted")
    func icmpErrorsAreJudged() {
        var run = ProbeRun(count: 2, interval: .milliseconds(500))
        let request = run.sent[0].datagram.payload
        let other = SNTPRequest(nonce: 77).packet.encoded
        run.deliver(ProbeRun.portUnreachable(quoting: other))
        run.deliver(ProbeRun.portUnreachable(quoting: Array(request.prefix(40))))
        run.deliver(ProbeRun.portUnreachable(to: SocketAddress(IPv4Address(192, 0, 2, 1), port: 124), quoting: request))
        #expect(!run.probe.isFinished && run.probe.requestsEnded == 0)
        run.deliver(ProbeRun.portUnreachable(quoting: request))
        #expect(run.probe.requestsEnded == 1)
        #expect(run.probe.ignoredByReason[.icmpWrongRequest] == 1 && run.probe.ignoredByReason[.icmpShortQuote] == 1)
        #expect(run.probe.ignoredByReason[.icmpWrongDestination] == 1 && run.probe.ignoredByReason.total == 3)
        #expect(run.outline.last == "icmp 0")
        guard case .deliveryError(let error) = run.probe.lastFailure else {
            Issue.record("no delivery error: \(String(describing: run.probe.lastFailure))")
            return
        }
        #expect(error.kind == .portUnreachable)
        // The same error again, between requests: about a request that has ended, it ends nothing.
        run.deliver(ProbeRun.portUnreachable(quoting: request))
        #expect(run.probe.ignoredByReason[.icmpWrongRequest] == 2)
        run.advance(to: .zero + .milliseconds(500))
        #expect(run.sendTimes == [0, 500])
    }

    @Test("a send that fails on ICMP errors not about it is tried again, 4 times at most")
    func failedSendsAreRetried() throws {
        let refused = UDPError(.send, errno: .connectionRefused)
        var run = ProbeRun(count: 1, failures: Array(repeating: refused, count: 3))
        #expect(run.sendTimes == [0, 0, 0, 0], "three failures, and the fourth try went out")
        #expect(run.events.isEmpty && !run.probe.isFinished)
        run.advance(by: .milliseconds(10))
        run.deliver(run.reply().encoded)
        #expect(run.outline == ["sample 0 user"])
        var failing = ProbeRun(count: 2, interval: .milliseconds(500), failures: Array(repeating: refused, count: 9))
        #expect(failing.sendTimes == [0, 0, 0, 0], "four tries, then the request is given up")
        #expect(failing.outline == ["timeout 0"] && failing.probe.lastFailure == .unsent(tries: 4))
        failing.failingSends = []
        failing.runOut()
        #expect(failing.sendTimes == [0, 0, 0, 0, 500] && failing.outline == ["timeout 0", "timeout 1"])
    }

    @Test("every send of a request failing on others' ICMP errors costs that request: 'unsent', then the next goes out")
    func unsentRequest() {
        var run = ProbeRun(count: 2, interval: .milliseconds(500))
        // The first send went out (the run starts with one); its retries are the next request's.
        run.deliver(run.reply().encoded)
        run.failingSends = Array(repeating: UDPError(.send, errno: .connectionRefused), count: 4)
        run.advance(to: .zero + .milliseconds(500))
        #expect(run.sendTimes == [0, 500, 500, 500, 500])
        #expect(run.outline == ["sample 0 user", "timeout 1"])
        #expect(run.probe.lastFailure == .unsent(tries: 4) && run.probe.isFinished)
    }

    @Test("a failed send that carries an ICMP error quoting it ends the request; a forged one is counted and retried")
    func failedSendsWithQueuedErrors() {
        var run = ProbeRun(count: 2, interval: .milliseconds(500))
        run.deliver(run.reply().encoded)
        let next = SNTPRequest(nonce: 2).packet.encoded
        let forged = UDPError(ProbeRun.portUnreachable(quoting: Array(next.prefix(8))), operation: .send)
        let real = UDPError(ProbeRun.portUnreachable(quoting: next), operation: .send)
        run.failingSends = [forged, real]
        run.advance(to: .zero + .milliseconds(500))
        #expect(run.sendTimes == [0, 500, 500])
        #expect(run.outline == ["sample 0 user", "ignored icmp short quote", "icmp 1"])
        #expect(run.probe.isFinished)
    }

    @Test("a send error that no retry mends (no such device) ends the run, kept for its caller")
    func fatalSendError() {
        var failing = ProbeRun(count: 3, interval: .milliseconds(500))
        failing.deliver(failing.reply().encoded)
        failing.failingSends = [UDPError(.send, errno: .noSuchDevice)]
        failing.advance(to: .zero + .seconds(1))
        #expect(failing.probe.isFinished && failing.probe.sendError?.errno == .noSuchDevice)
        #expect(failing.sendTimes == [0, 500] && failing.outline == ["sample 0 user"])
    }

    @Test("offset and delay from the user clock: T1 when the send was reported, T4 when the reply arrived")
    func userClockSample() throws {
        var run = ProbeRun(count: 1)
        let t1 = ProbeRun.wall(.zero)
        // The server is 2 s ahead; 10 ms each way, 5 ms inside it.
        let t2 = WallClockTime(nanosecondsSince1970: t1.nanosecondsSince1970 + 2_010_000_000)
        let t3 = WallClockTime(nanosecondsSince1970: t1.nanosecondsSince1970 + 2_015_000_000)
        run.advance(by: .milliseconds(25))
        run.deliver(run.reply(t2: t2, t3: t3).encoded)
        let best = try #require(run.probe.best)
        #expect(best.clock == .user)
        #expect(abs(best.sample.offset / .seconds(1) - 2.0) < 1e-6, "offset \(best.sample.offset)")
        #expect(abs(best.sample.delay / .seconds(1) - 0.020) < 1e-6, "delay \(best.sample.delay)")
    }

    @Test("offset and delay from the kernel's stamps: the send stamp numbered as the send, the receive stamp")
    func kernelClockSample() throws {
        var run = ProbeRun(count: 2, interval: .milliseconds(500), kernelStamps: true)
        let base = ProbeRun.wallAtZero
        // The kernel stamped the send 1 ms after the process read its clock; a stamp of another send is no T1.
        run.probe.handleSendReport(
            .kernelTimestamp(id: 7, socket: 0, time: WallClockTime(nanosecondsSince1970: base + 500_000)),
            at: run.now
        )
        run.probe.handleSendReport(
            .kernelTimestamp(id: 0, socket: 0, time: WallClockTime(nanosecondsSince1970: base + 1_000_000)),
            at: run.now
        )
        let t2 = WallClockTime(nanosecondsSince1970: base + 11_000_000)
        let t3 = WallClockTime(nanosecondsSince1970: base + 12_000_000)
        run.advance(by: .milliseconds(30))
        // The kernel's receive stamp: 22 ms after the start, 8 ms before the process got to it.
        let t4 = WallClockTime(nanosecondsSince1970: base + 22_000_000)
        run.deliver(run.reply(t2: t2, t3: t3).encoded, receivedAt: t4, kernelStamp: true)
        let kernel = try #require(run.probe.samples.first)
        #expect(kernel.clock == .kernel)
        #expect(abs(kernel.sample.offset / .seconds(1)) < 1e-6, "offset \(kernel.sample.offset)")
        #expect(abs(kernel.sample.delay / .seconds(1) - 0.020) < 1e-6, "delay \(kernel.sample.delay)")
        // No send stamp for the second request: T1 and the clock are the user's.
        run.advance(to: .zero + .milliseconds(500))
        let sentAt = ProbeRun.wall(run.now).nanosecondsSince1970
        run.deliver(
            run.reply(
                t2: WallClockTime(nanosecondsSince1970: sentAt + 1_000_000),
                t3: WallClockTime(nanosecondsSince1970: sentAt + 1_000_000)
            ).encoded,
            receivedAt: WallClockTime(nanosecondsSince1970: sentAt + 2_000_000),
            kernelStamp: true
        )
        let user = try #require(run.probe.samples.last)
        #expect(
            user.clock == .user && abs(user.sample.delay / .seconds(1) - 0.002) < 1e-6
                && abs(user.sample.offset / .seconds(1)) < 1e-6
        )
    }

    @Test("kernel stamps off: a sample is the user clock's even when a stamp came")
    func kernelStampsOff() throws {
        var run = ProbeRun(count: 1, kernelStamps: false)
        run.probe.handleSendReport(.kernelTimestamp(id: 0, socket: 0, time: ProbeRun.wall(.zero)), at: run.now)
        run.deliver(run.reply().encoded, kernelStamp: true)
        #expect(try #require(run.probe.best).clock == .user)
    }

    @Test("a flood of ignored datagrams is counted whole, and at most 64 of its events wait to be polled")
    func eventsAreBounded() {
        var probe = SNTPProbe(server: ProbeRun.server, count: 1, nonce: { 1 })
        _ = probe.pollTransmit(at: .zero)
        let stranger = SocketAddress(IPv4Address(198, 51, 100, 7), port: 123)
        for _ in 0..<1_000 { probe.handleDatagram(InboundDatagram([0], from: stranger), at: .zero) }
        var events = 0
        while probe.pollEvent() != nil { events += 1 }
        #expect(events == SNTPProbe.eventLimit && probe.ignoredByReason[.wrongSource] == 1_000)
    }
}
