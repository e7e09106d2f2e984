import Testing
import UDP
import UDPPatterns

#if canImport(Glibc)
import Glibc
#endif

/// What the patterns promise, shown end to end through `udp relay` at a fixed seed: retries with a reply
/// cache get every request done exactly once through heavy loss, and a reorder buffer puts a shuffled stream
/// back in order. 127.0.0.1 only.
@Suite("udp relay: the patterns' promises under faults")
struct RelayProofTests {
    @Test("1,000 framed requests through 20% loss each way: all answered, each handled exactly once")
    func thousandRequestsThroughLoss() throws {
        let (server, relay, relayPort) = try Spawned.framedEchoBehindRelay("--loss", "20%", "--seed", "7")
        // Five clients of 200 requests each, side by side: `udp send --framed` runs its lines one at a time.
        // A 20 ms wait (no backoff) is several round trips on loopback; 30 retries make giving up a 0.36^31
        // chance per request.
        let clients = 5
        let perClient = 200
        var senders: [Spawned] = []
        for client in 0..<clients {
            let sender = try Spawned(
                [
                    udpBinary, "send", "127.0.0.1:\(relayPort)", "--framed", "--timeout", "0.02", "--backoff", "1",
                    "--retries", "30",
                ]
            )
            sender.write((0..<perClient).map { "c\(client)-\($0)\n" }.joined())
            sender.closeStandardInput()
            senders.append(sender)
        }
        for (client, sender) in senders.enumerated() {
            let result = sender.wait(timeout: .seconds(30))
            #expect(result.status == 0, "client \(client): \(result.stderr)")
            #expect(result.stdout == (0..<perClient).map { "ack: c\(client)-\($0)\n" }.joined())
        }
        relay.signal(SIGINT)
        let relayResult = relay.wait(timeout: .seconds(5))
        server.signal(SIGINT)
        let serverResult = server.wait(timeout: .seconds(5))
        let summary = RelaySummary(relayResult.stderr)
        #expect(RelaySummary.addsUp(summary.up) && RelaySummary.addsUp(summary.down), "\(relayResult.stderr)")
        // Loss both ways means retries, and lost replies mean retries the server has already handled. (At
        // seed 7 a run takes about 1,560 datagrams up, so some 560 retransmissions, and 250 cached answers.)
        let sent = summary.up["received", default: 0]
        #expect(sent > clients * perClient, "\(relayResult.stderr)")
        #expect(summary.up["dropped", default: 0] > 0 && summary.down["dropped", default: 0] > 0)
        let handled = serverResult.stderr.split(separator: "\n").first { $0.hasPrefix("handled ") }
        let fromCache = handled.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
        #expect(handled?.hasPrefix("handled \(clients * perClient), from cache ") == true, "\(serverResult.stderr)")
        #expect(fromCache > 0, "\(serverResult.stderr)")
        // Every request the relay let through reached the handler or the cache, and nothing else did.
        #expect(clients * perClient + fromCache == summary.up["forwarded"], "\(serverResult.stderr)")
    }

    @Test("a numbered stream through 10% reordering comes out of a ReorderBuffer whole and in order")
    func reorderedStreamIsRestored() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let relay = try Spawned(
            [
                udpBinary, "relay", "--listen", "127.0.0.1:0", "--to", "\(try server.localAddress)", "--reorder", "10%",
                "--seed", "5",
            ]
        )
        let address = SocketAddress.loopbackV4(port: try relay.listeningPort())
        let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let count = 400
        var buffer = ReorderBuffer<[UInt8]>(capacity: 64, first: 0)
        var arrivals: [UInt32] = []
        var delivered: [UInt32] = []
        let deadline = MonotonicInstant.now() + .seconds(5)
        // In bursts of 50, each read before the next goes, so no receive queue overflows on the way; the
        // last of a burst may wait in the relay (held back, 50 ms at most) and come with the next burst.
        for burst in 0...(count / 50) {
            for sequence in (burst * 50)..<min(count, burst * 50 + 50) {
                let header = FrameHeader(sequence: SequenceNumber(UInt32(sequence)))
                try client.send(try Frame(header: header, payload: [UInt8(sequence & 0xFF)]).encoded(), to: address)
            }
            let expected = burst == count / 50 ? count : burst * 50 + 49
            while arrivals.count < expected, MonotonicInstant.now() < deadline {
                guard let datagram = try server.receive(timeout: .milliseconds(500)) else { break }
                let frame = try Frame(decoding: datagram.payload)
                arrivals.append(frame.header.sequence.rawValue)
                buffer.receive(frame.header.sequence, frame.payload, now: .now())
                while let output = buffer.poll() {
                    if case .delivered(let sequence, let payload) = output {
                        #expect(payload == [UInt8(sequence.rawValue & 0xFF)])
                        delivered.append(sequence.rawValue)
                    }
                }
            }
        }
        relay.signal(SIGINT)
        let result = relay.wait(timeout: .seconds(5))
        let reordered = RelaySummary(result.stderr).up["reordered", default: -1]
        #expect(arrivals.count == count)
        #expect(arrivals != arrivals.sorted(), "the relay reordered nothing")
        #expect(delivered == Array(0..<UInt32(count)))
        #expect(buffer.counters.lost == 0 && buffer.counters.duplicates == 0 && buffer.counters.late == 0)
        // Each swap the relay made is one datagram that arrived ahead of a gap and waited in the buffer (35 of
        // the 400 at seed 5).
        #expect(buffer.counters.reordered > 0)
        #expect(buffer.counters.reordered == reordered, "relay: \(result.stderr)")
    }
}
