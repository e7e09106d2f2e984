import Testing
import UDP
import UDPPatterns
import UDPTools

/// A path to an echo server, as the prober's fake-clock tests script it: what each probe meets on the way.
private enum PathResponse {
    /// The echo comes back after 1 ms.
    case echo
    /// A router says Packet Too Big (`mtu`), quoting the probe.
    case packetTooBig(mtu: Int)
    /// The probe vanishes.
    case lost
    /// The target's host says port unreachable, quoting the probe.
    case portUnreachable
}

private let server = SocketAddress(IPAddress("198.18.2.2")!, port: 7)
private let router = IPAddress("198.18.1.1")!

/// Runs `prober` to the end on a path that answers each probe of payload `size` with `path(size)`; returns
/// its events.
private func probe(
    _ prober: inout PathMTUProber,
    path: (Int) -> PathResponse,
    forgeEach forged: ((inout PathMTUProber, [UInt8], MonotonicInstant) -> Void)? = nil
) -> [PathMTUProber.Event] {
    // The fake-clock harness sends each probe and reports it sent; the path's answer to it is played here.
    var harness = MachineHarness(prober, at: .zero + .seconds(1))
    var answered = 0
    while !harness.machine.isFinished, answered < harness.sent.count, answered < 100 {
        let payload = harness.sent[answered].datagram.payload
        answered += 1
        forged?(&harness.machine, payload, harness.now)
        switch path(payload.count) {
        case .echo:
            harness.now += .milliseconds(1)
            harness.receive(payload, from: server)
        case .packetTooBig(let mtu):
            harness.now += .microseconds(500)
            harness.deliver(error(.packetTooBig(mtu: mtu), quoting: payload))
        case .lost:
            // Never early: a timeout before the deadline changes nothing.
            harness.machine.handleTimeout(at: harness.now + .milliseconds(999))
            #expect(harness.machine.nextDeadline == harness.now + .seconds(1), "still in flight")
            harness.advance(to: harness.machine.nextDeadline ?? harness.now)
        case .portUnreachable:
            harness.deliver(error(.portUnreachable, quoting: payload))
        }
    }
    prober = harness.machine
    return harness.events
}

private func error(_ kind: DeliveryError.Kind, quoting payload: [UInt8]) -> DeliveryError {
    DeliveryError(
        origin: .icmp,
        kind: kind,
        errno: .messageTooLong,
        offender: kind == .portUnreachable ? server.ip : router,
        destination: server,
        quotedPayload: Array(payload.prefix(28))
    )
}

@Suite struct PathMTUProberTests {
    @Test func findsTheLargestSizeThatEchoes() {
        var prober = PathMTUProber(destination: server, range: 548...1472, timeout: .seconds(1), runID: 7)
        let events = probe(&prober) { _ in .echo }
        #expect(prober.search.result?.udpPayload == 1472)
        #expect(prober.error == nil)
        for case .probe(_, let attempt, let outcome, let roundTrip) in events {
            #expect(outcome == .echoed && attempt == 1 && roundTrip == .milliseconds(1))
        }
    }

    @Test func believesAPacketTooBigThatQuotesTheProbeInFlight() {
        var prober = PathMTUProber(destination: server, range: 548...1472, timeout: .seconds(1), runID: 7)
        _ = probe(&prober) { size in size > 1372 ? .packetTooBig(mtu: 1400) : .echo }
        let result = prober.search.result
        #expect(result?.udpPayload == 1372)
        #expect(result?.ptbFrom == router)
        #expect(result?.blackHole == false)
    }

    @Test func ignoresAPacketTooBigQuotingAnotherProbe() {
        var prober = PathMTUProber(destination: server, range: 548...1472, timeout: .seconds(1), runID: 7)
        let forge: (inout PathMTUProber, [UInt8], MonotonicInstant) -> Void = { prober, payload, now in
            var stale = payload
            stale[19] &+= 100  // this run's id, another sequence number
            prober.handleDeliveryError(error(.packetTooBig(mtu: 1300), quoting: stale), socket: 0, at: now)
        }
        let events = probe(&prober, path: { _ in .echo }, forgeEach: forge)
        #expect(prober.search.result?.udpPayload == 1472, "the forged 1300 changed nothing")
        let ignored = events.filter { if case .ignored = $0 { true } else { false } }
        #expect(ignored.count == prober.search.probes)
    }

    @Test func takesThreeSilentLossesAsABlackHole() {
        var prober = PathMTUProber(destination: server, range: 548...1472, timeout: .seconds(1), runID: 7)
        let events = probe(&prober) { size in size > 1372 ? .lost : .echo }
        #expect(prober.search.result?.udpPayload == 1372)
        #expect(prober.search.result?.blackHole == true)
        let attempts = events.compactMap { event -> Int? in
            if case .probe(_, let attempt, .lost, nil) = event { attempt } else { nil }
        }
        #expect(attempts.starts(with: [1, 2, 3]))
    }

    @Test func endsWhenTheTargetRefuses() {
        var prober = PathMTUProber(destination: server, range: 548...1472, timeout: .seconds(1), runID: 7)
        _ = probe(&prober) { _ in .portUnreachable }
        #expect(prober.isFinished)
        #expect(prober.error?.deliveryError?.kind == .portUnreachable)
        #expect(prober.search.result == nil)
    }

    @Test func aProbeTheLocalLinkRefusesIsTooBigAtOnce() {
        var prober = PathMTUProber(destination: server, range: 548...9000, timeout: .seconds(1), runID: 7)
        let now = MonotonicInstant.zero
        var first = prober.pollTransmit(at: now)
        prober.handleSendReport(.sent(first!, socket: 0, sentAt: .init(nanosecondsSince1970: 0), stampID: 0), at: now)
        prober.handleDatagram(InboundDatagram(first!.payload, from: server), at: now)
        first = prober.pollTransmit(at: now)
        let tooLarge = UDPError(.messageTooLarge, .send, detail: "local link")
        prober.handleSendReport(.failed(first!, socket: 0, error: tooLarge), at: now)
        // The stack's own record of the refusal, queued after: not reported as a forgery.
        var local = error(.messageTooLarge(mtu: 1500), quoting: first!.payload)
        local.origin = .local
        prober.handleDeliveryError(local, socket: 0, at: now)
        var outcomes: [PathMTUSearch.Outcome] = []
        while let event = prober.pollEvent() {
            if case .probe(_, _, let outcome, _) = event { outcomes.append(outcome) } else { Issue.record("\(event)") }
        }
        #expect(outcomes == [.echoed, .tooBig(mtu: nil, from: nil)])
        #expect(prober.nextDeadline == nil, "nothing in flight until the next probe is polled")
    }
}
