import Testing
import UDP
import UDPNTP
import UDPTools

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` (a probe) on a thread and `script` (its server) here, as `withEngine` does, but lets the probe
/// finish on its own (10 s at most) before raising the stop: the driver reads nothing once the stop is raised,
/// and the script's last answer may still be on its way.
func withProbe<Value: Sendable>(
    _ body: @escaping @Sendable (StopSignal) -> Value,
    script: () throws -> Void
) throws -> Value {
    let done = EventCounter()
    return try withEngine(
        { stop in
            let value = body(stop)
            _ = done.increment()
            return value
        },
        test: {
            try script()
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while done.count == 0, clock.now < deadline { usleep(1_000) }
        }
    )
}

/// Runs an SNTP probe through the driver on a fresh client socket, with the kernel's timestamps where the
/// socket gives them (as `udp ntp` does by default), until it finishes or `stop` is raised.
func runSNTPProbe(
    server: SocketAddress,
    count: Int,
    interval: Duration,
    timeout: Duration,
    until stop: StopSignal,
    onEvent: (SNTPProbe.Event) -> Void
) throws -> SNTPProbe {
    let socket = try UDPSocket.sntpClient(for: server)
    let kernelStamps = socket.enableKernelStamps() == nil
    var probe = SNTPProbe(
        server: server,
        count: count,
        interval: interval,
        timeout: timeout,
        kernelStamps: kernelStamps
    )
    try MachineDriver(stop: stop, receiveBufferSize: 2_048).run(&probe, on: socket, onEvent: onEvent)
    return probe
}

/// The SNTP engine as a library, against a server the test plays on loopback.
@Suite struct SNTPProbeTests {
    struct Outcome: Sendable {
        var events: [SNTPProbe.Event]
        var samples: Int
        var ignored: [String: Int]
        var lastFailure: SNTPProbe.Failure?
    }

    @Test func aForgedReplyIsIgnoredALostOneTimesOutAndTheRestAreSamples() throws {
        let server = try UDPSocket(family: .inet)
        try server.bind(to: SocketAddress(IPAddress("127.0.0.1")!, port: 0))
        let address = try server.localAddress
        let outcome = try withProbe(
            { stop in
                var events: [SNTPProbe.Event] = []
                do {
                    let probe = try runSNTPProbe(
                        server: address,
                        count: 3,
                        interval: .milliseconds(10),
                        timeout: .milliseconds(300),
                        until: stop
                    ) { events.append($0) }
                    return Outcome(
                        events: events,
                        samples: probe.samples.count,
                        ignored: Dictionary(
                            uniqueKeysWithValues: probe.ignoredByReason.byReason.map { ("\($0.reason)", $0.count) }
                        ),
                        lastFailure: probe.lastFailure
                    )
                } catch {
                    Issue.record("the probe failed: \(error)")
                    return Outcome(events: events, samples: 0, ignored: [:], lastFailure: nil)
                }
            },
            script: {
                for index in 0..<3 {
                    let request = try #require(try server.receive(timeout: .seconds(5)), "request \(index + 1)")
                    let asked = try #require(NTPPacket(decoding: request.payload))
                    #expect(asked.mode == .client && asked.version == 4)
                    let now = NTPTimestamp(WallClockTime.now())
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
        #expect(outcome.lastFailure == .noReply(timeout: .milliseconds(300)))
        let kinds = outcome.events.map { event -> String in
            switch event {
            case .sample(let index, let sample, _):
                #expect(abs(sample.offset / .seconds(1)) < 0.01 && sample.reply.stratum == 3)
                return "sample \(index)"
            case .timeout(let index): return "timeout \(index)"
            case .ignored: return "ignored"
            case .kissOfDeath, .deliveryError: return "other"
            }
        }
        #expect(kinds == ["ignored", "sample 0", "timeout 1", "sample 2"])
    }
}
