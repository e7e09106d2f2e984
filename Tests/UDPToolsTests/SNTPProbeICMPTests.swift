import Synchronization
import Testing
import UDP
import UDPNTP
import UDPTools

/// ICMP errors and malformed replies for SNTP requests: an error ends a request only when it quotes the
/// request's transmit timestamp; a reply must be a header and whole extension fields.
@Suite struct SNTPProbeICMPTests {
    let server = SocketAddress(IPv4Address(127, 0, 0, 1), port: 123)

    @Test("an ICMP error counts only with the request's transmit timestamp quoted, about a datagram to the server")
    func requestMatchesTheQuote() {
        let request = SNTPRequest(nonce: 0x0102_0304_0506_0708)
        let sent = request.packet.encoded
        #expect(request.check(portUnreachable(to: server, quoting: sent), server: server) == nil)
        #expect(
            request.check(portUnreachable(to: server, quoting: Array(sent.prefix(47))), server: server)
                == .icmpShortQuote
        )
        #expect(
            request.check(portUnreachable(to: server, quoting: Array(sent.prefix(8))), server: server)
                == .icmpShortQuote
        )
        #expect(request.check(portUnreachable(to: server, quoting: []), server: server) == .icmpShortQuote)
        let other = SNTPRequest(nonce: 0x0102_0304_0506_0709).packet.encoded
        #expect(request.check(portUnreachable(to: server, quoting: other), server: server) == .icmpWrongRequest)
        let elsewhere = SocketAddress(IPv4Address(127, 0, 0, 1), port: 124)
        #expect(request.check(portUnreachable(to: elsewhere, quoting: sent), server: server) == .icmpWrongDestination)
        #expect(request.check(portUnreachable(to: server, quoting: [], origin: .local), server: server) == nil)
    }

    /// Runs a probe of `count` requests against a server that `script` plays on 127.0.0.1.
    func probe(
        count: Int,
        timeout: Duration = .seconds(5),
        onEvent: @escaping @Sendable (SNTPProbe.Event) -> Void = { _ in },
        script: (borrowing UDPSocket, SocketAddress) throws -> Void
    ) throws -> (samples: Int, ignored: SNTPIgnoredCounts, events: [SNTPProbe.Event]) {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let address = try server.localAddress
        return try withProbe(
            { stop in
                var events: [SNTPProbe.Event] = []
                do {
                    let probe = try runSNTPProbe(
                        server: address,
                        count: count,
                        interval: .milliseconds(1),
                        timeout: timeout,
                        until: stop
                    ) { event in
                        events.append(event)
                        onEvent(event)
                    }
                    return (probe.samples.count, probe.ignoredByReason, events)
                } catch {
                    Issue.record("the probe failed: \(error)")
                    return (0, SNTPIgnoredCounts(), events)
                }
            },
            script: { try script(server, address) }
        )
    }

    /// The server's reply to `request`.
    func answer(_ request: NTPPacket) -> NTPPacket {
        let now = NTPTimestamp(WallClockTime.now())
        return NTPPacket(
            mode: .server,
            stratum: 2,
            referenceID: 0x7F7F_0101,
            originTimestamp: request.transmitTimestamp,
            receiveTimestamp: now,
            transmitTimestamp: now
        )
    }

    @Test(
        "forged ICMP errors that quote too little, another request or another destination do not end the request",
        .enabled(if: isRoot, "a raw socket needs root")
    )
    func forgedErrorsDoNotEndTheRequest() throws {
        let go = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let goAddress = try go.localAddress
        let forged = EventCounter()
        let outcome = try probe(
            count: 1,
            onEvent: { event in
                guard case .ignored(_, let reason) = event, "\(reason)".hasPrefix("icmp") else { return }
                if forged.increment() == 4 { _ = try? UDPSocket(family: .inet).send([1], to: goAddress) }
            },
            script: { server, address in
                let request = try #require(try server.receive(timeout: .seconds(5)))
                let asked = try #require(NTPPacket(decoding: request.payload))
                let elsewhere = SocketAddress(IPv4Address(127, 0, 0, 1), port: address.port &+ 1)
                let other = SNTPRequest(nonce: asked.transmitTimestamp.rawValue &+ 1).packet.encoded
                try forgePortUnreachable(from: request.sender, to: address, quoting: Array(request.payload.prefix(8)))
                try forgePortUnreachable(from: request.sender, to: address, quoting: Array(request.payload.prefix(40)))
                try forgePortUnreachable(from: request.sender, to: address, quoting: other)
                try forgePortUnreachable(from: request.sender, to: elsewhere, quoting: request.payload)
                guard try go.receive(timeout: .seconds(5)) != nil else { return }
                try server.send(answer(asked).encoded, to: request.sender)
            }
        )
        #expect(outcome.samples == 1, "the forged errors ended the request")
        #expect(outcome.ignored[.icmpShortQuote] == 2 && outcome.ignored[.icmpWrongRequest] == 1)
        #expect(outcome.ignored[.icmpWrongDestination] == 1 && outcome.ignored.total == 4)
    }

    @Test(
        "forged ICMP errors that land between requests fail the next send; they cost at most that request, never the run",
        .enabled(if: isRoot, "a raw socket needs root")
    )
    func forgedErrorsBetweenRequestsDoNotEndTheRun() throws {
        let count = 10
        let outcome = try probe(count: count, timeout: .seconds(1)) { server, address in
            // Each answer is followed at once by a burst of forged errors, which race the probe's next send (1 ms
            // later): with the error queue on, each sets the socket's pending error, which fails that send. A
            // burst of 100: a longer one, on a machine loaded by the rest of the suite, outlasts the next request
            // too, and the run loses requests to its length rather than to the race (CI saw 4 samples of 10).
            for _ in 0..<count {
                guard let request = try server.receive(timeout: .seconds(5)) else { return }
                let asked = try #require(NTPPacket(decoding: request.payload))
                try server.send(answer(asked).encoded, to: request.sender)
                for _ in 0..<100 {
                    try forgePortUnreachable(
                        from: request.sender,
                        to: address,
                        quoting: Array(request.payload.prefix(8))
                    )
                }
            }
        }
        let timeouts = outcome.events.filter { if case .timeout = $0 { true } else { false } }.count
        #expect(outcome.samples + timeouts == count, "every request was made and accounted for")
        #expect(outcome.samples >= count / 2)
        #expect(outcome.ignored[.icmpShortQuote] > 0)
    }

    @Test("a real port unreachable, which quotes the whole request, still ends it at once")
    func realErrorEndsTheRequest() throws {
        let closed = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let address = try closed.localAddress
        _ = consume closed
        var errors: [DeliveryError.Kind] = []
        let clock = ContinuousClock()
        let start = clock.now
        let probe = try runSNTPProbe(
            server: address,
            count: 2,
            interval: .milliseconds(1),
            timeout: .seconds(5),
            until: try StopSignal()
        ) { event in
            if case .deliveryError(_, let error) = event { errors.append(error.kind) }
        }
        #expect(errors == [.portUnreachable, .portUnreachable])
        #expect(clock.now - start < .seconds(2) && probe.ignoredByReason.total == 0)
    }

    @Test("a reply with a malformed extension field or stray bytes is ignored by its reason; a whole one is taken")
    func malformedLengthsAreIgnored() throws {
        let outcome = try probe(count: 1) { server, _ in
            let request = try #require(try server.receive(timeout: .seconds(5)))
            let asked = try #require(NTPPacket(decoding: request.payload))
            let reply = answer(asked).encoded
            try server.send(reply + [0, 1, 0, 12] + [UInt8](repeating: 0, count: 8), to: request.sender)
            try server.send(reply + [1, 2, 3], to: request.sender)
            try server.send(reply + [0, 1, 0, 32] + [UInt8](repeating: 0, count: 12), to: request.sender)
            // A 16-byte field and a 20-byte MAC: well formed.
            try server.send(reply + [0, 1, 0, 16] + [UInt8](repeating: 0, count: 12 + 20), to: request.sender)
        }
        #expect(outcome.samples == 1)
        #expect(outcome.ignored[.rejected(.badExtensionField)] == 1)
        #expect(outcome.ignored[.rejected(.trailingBytes)] == 2 && outcome.ignored.total == 3)
    }
}

/// A count that the probe's thread bumps.
final class EventCounter: Sendable {
    private let value = Mutex(0)

    /// The count.
    var count: Int { value.withLock { $0 } }

    /// Adds one and returns the new count.
    func increment() -> Int {
        value.withLock { count in
            count += 1
            return count
        }
    }
}
