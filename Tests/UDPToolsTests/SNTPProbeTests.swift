import Testing
import UDP
import UDPNTP
import UDPTools

/// The SNTP engine as a library, against a server the test plays on loopback.
@Suite struct SNTPProbeTests {
    struct Outcome: Sendable {
        var events: [SNTPProbe.Event]
        var samples: Int
        var ignored: [String: Int]
        var lastFailure: String?
    }

    @Test func aForgedReplyIsIgnoredALostOneTimesOutAndTheRestAreSamples() throws {
        let server = try UDPSocket(family: .inet)
        try server.bind(to: SocketAddress(IPAddress("127.0.0.1")!, port: 0))
        let address = try server.localAddress
        let outcome = try withEngine(
            { stop in
                var probe = SNTPProbe(server: address, count: 3, interval: 10_000_000, timeout: 300_000_000)
                var events: [SNTPProbe.Event] = []
                do {
                    let socket = try SNTPProbe.makeSocket(for: address)
                    try probe.run(socket, until: stop) { events.append($0) }
                } catch {
                    Issue.record("the probe failed: \(error)")
                }
                return Outcome(
                    events: events,
                    samples: probe.samples.count,
                    ignored: probe.ignored,
                    lastFailure: probe.lastFailure
                )
            },
            test: {
                for index in 0..<3 {
                    let request = try #require(try server.receive(timeout: .seconds(5)), "request \(index + 1)")
                    let asked = try #require(NTPPacket(decoding: request.payload))
                    #expect(asked.mode == .client && asked.version == 4)
                    let now = NTPTimestamp(unixNanoseconds: WallClock.now())
                    var answer = NTPPacket(
                        mode: .server,
                        stratum: 3,
                        referenceID: 0xC612_0001,
                        originTimestamp: asked.transmitTimestamp,
                        receiveTimestamp: now,
                        transmitTimestamp: now
                    )
                    if index == 1 { continue }  // lost: the probe times out and goes on
                    if index == 0 {
                        var forged = answer
                        forged.originTimestamp = NTPTimestamp(rawValue: 42)
                        try server.send(forged.encoded, to: request.sender)
                    }
                    answer.receiveTimestamp = now
                    try server.send(answer.encoded, to: request.sender)
                }
            }
        )
        #expect(outcome.samples == 2)
        #expect(outcome.ignored == ["wrong origin timestamp": 1])
        #expect(outcome.lastFailure?.hasPrefix("no reply within") == true)
        let kinds = outcome.events.map { event -> String in
            switch event {
            case .sample(let index, let sample, _):
                #expect(abs(sample.offset) < 0.01 && sample.reply.stratum == 3)
                return "sample \(index)"
            case .timeout(let index): return "timeout \(index)"
            case .ignored: return "ignored"
            case .kissOfDeath, .deliveryError: return "other"
            }
        }
        #expect(kinds == ["ignored", "sample 0", "timeout 1", "sample 2"])
    }
}
