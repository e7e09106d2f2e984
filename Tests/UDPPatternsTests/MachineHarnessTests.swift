import Testing
import UDP
import UDPPatterns

/// A machine that sends "ping" at once and again at each of its wake-ups, a second apart, three in all; answers
/// each datagram with "pong"; and says what it met: each send report, datagram, error and wake-up.
private struct Pinger: DatagramMachine {
    var outbox: [OutboundDatagram] = [OutboundDatagram(Array("ping".utf8), to: peer)]
    var events: [String] = []
    var wakeUps = 0
    var nextDeadline: MonotonicInstant? = .zero + .seconds(1)

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        events.append("datagram \(String(decoding: datagram.payload, as: UTF8.self)) at \(now.nanoseconds)")
        outbox.append(OutboundDatagram(Array("pong".utf8), to: datagram.sender))
    }

    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        events.append("error on \(socket)")
    }

    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        switch report {
        case .sent(_, _, let sentAt, let stampID): events.append("sent \(stampID) at \(sentAt.nanosecondsSince1970)")
        case .failed: events.append("failed")
        case .kernelTimestamp: break
        }
    }

    mutating func handleTimeout(at now: MonotonicInstant) {
        guard let deadline = nextDeadline, now >= deadline else { return }
        wakeUps += 1
        events.append("woke at \(now.nanoseconds)")
        outbox.append(OutboundDatagram(Array("ping".utf8), to: peer))
        nextDeadline = wakeUps < 2 ? deadline + .seconds(1) : nil
    }

    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        outbox.isEmpty ? nil : outbox.removeFirst()
    }

    mutating func pollEvent() -> String? { events.isEmpty ? nil : events.removeFirst() }
    var isFinished: Bool { nextDeadline == nil }
}

private let peer = SocketAddress(IPv4Address(198, 18, 0, 9), port: 7)

@Suite struct MachineHarnessTests {
    @Test("it drains at the start, fires each deadline at its own instant, and reports sends with the wall clock")
    func drivesOnAFakeClock() {
        var harness = MachineHarness(Pinger(), wallClockAtZero: WallClockTime(nanosecondsSince1970: 1_000))
        #expect(harness.sent.map(\.at) == [.zero], "the first ping at once")
        harness.advance(by: .milliseconds(1500))
        #expect(harness.now == .zero + .milliseconds(1500))
        harness.advance(to: .zero + .seconds(10))
        #expect(harness.sent.map(\.at) == [.zero, .zero + .seconds(1), .zero + .seconds(2)])
        #expect(harness.machine.isFinished && harness.now == .zero + .seconds(10))
        let second = MonotonicInstant.zero + .seconds(1)
        let third = MonotonicInstant.zero + .seconds(2)
        #expect(harness.timedEvents.map(\.at) == [.zero, second, second, third, third])
        #expect(
            harness.takeEvents() == [
                "sent 0 at 1000", "woke at 1000000000", "sent 1 at 1000001000", "woke at 2000000000",
                "sent 2 at 2000001000",
            ]
        )
        #expect(harness.events.isEmpty)
    }

    @Test("inputs are handed over now and drained; failing sends are reported failed, in order")
    func inputsAndFailures() {
        var harness = MachineHarness(Pinger(), failingSends: [UDPError(.send, errno: .connectionRefused)])
        harness.receive(Array("hi".utf8), from: peer)
        let refused = DeliveryError.portUnreachable(to: peer, quoting: Array("ping".utf8))
        #expect(
            refused.kind == .portUnreachable && refused.type == 3 && refused.code == 3 && refused.offender == peer.ip
        )
        harness.deliver(refused, socket: 1)
        #expect(harness.sent.map { String(decoding: $0.datagram.payload, as: UTF8.self) } == ["ping", "pong"])
        let failed = harness.reports.map { if case .failed = $0 { true } else { false } }
        #expect(failed == [true, false])
        #expect(harness.events == ["failed", "datagram hi at 0", "sent 0 at 0", "error on 1"])
    }

    @Test("play fires a deadline before a datagram of the same instant")
    func playsInTimeOrder() {
        var harness = MachineHarness(Pinger())
        let hi = InboundDatagram(Array("hi".utf8), from: peer)
        harness.play([(.zero + .seconds(1), hi)], until: .zero + .milliseconds(1500))
        let said = harness.events.filter { !$0.hasPrefix("sent") }
        #expect(said == ["woke at 1000000000", "datagram hi at 1000000000"])
    }
}
