import Testing
import UDP
import UDPPatterns

@Suite struct IdempotentServerTests {
    /// A handler that must not run twice for one request: it counts its runs.
    final class Ledger {
        var runs: [String: Int] = [:]
        func debit(_ request: [UInt8]) -> [UInt8] {
            let text = String(decoding: request, as: UTF8.self)
            runs[text, default: 0] += 1
            return bytes("done: \(text) (\(runs.values.reduce(0, +)))")
        }
    }

    @Test func aRetryAfterALostReplyGetsTheSameReplyWithoutRunningTheHandlerAgain() throws {
        var client = RequestReplyClient(
            policy: RetryPolicy(attempts: 4, timeout: .milliseconds(100)),
            generator: SeededGenerator(seed: 1)
        )
        var server = IdempotentServer<String>(timeToLive: .seconds(5))
        let ledger = Ledger()
        let id = try client.start(bytes("debit 10"), now: at(0))

        let firstTransmit = client.pollTransmit(now: at(0))
        let first = try #require(firstTransmit)
        let lostReply = server.respond(to: first.bytes, from: "client", now: at(1), handler: ledger.debit)
        #expect(lostReply != nil)  // made, then dropped by the network

        client.handleTimeout(now: at(100))
        let retryTransmit = client.pollTransmit(now: at(100))
        let retry = try #require(retryTransmit)
        #expect(retry.attempt == 2)
        let answer = server.respond(to: retry.bytes, from: "client", now: at(101), handler: ledger.debit)
        let reply = try #require(answer)
        #expect(client.handleDatagram(reply, now: at(102)) == .completed(id, bytes("done: debit 10 (1)")))

        #expect(ledger.runs == ["debit 10": 1])
        #expect(server.counters.handled == 1 && server.counters.servedFromCache == 1)
        // The cached reply echoes the retry's sequence number, not the first attempt's.
        #expect(try Frame(decoding: reply).header.sequence == retry.sequence)
        #expect(try Frame(decoding: lostReply!).payload == Frame(decoding: reply).payload)
    }

    @Test func theSameIDFromAnotherPeerIsAnotherRequest() throws {
        var server = IdempotentServer<String>(timeToLive: .seconds(5))
        let ledger = Ledger()
        let request = requestFrame(42, "debit 10")
        _ = server.respond(to: request, from: "alice", now: at(0), handler: ledger.debit)
        _ = server.respond(to: request, from: "bob", now: at(0), handler: ledger.debit)
        _ = server.respond(to: request, from: "alice", now: at(1), handler: ledger.debit)
        #expect(ledger.runs == ["debit 10": 2])
        #expect(server.counters.handled == 2 && server.counters.servedFromCache == 1)
    }

    @Test func afterTheTimeToLiveTheHandlerRunsAgain() throws {
        var server = IdempotentServer<String>(timeToLive: .milliseconds(500))
        let ledger = Ledger()
        let request = requestFrame(1, "x")
        _ = server.respond(to: request, from: "p", now: at(0), handler: ledger.debit)
        _ = server.respond(to: request, from: "p", now: at(499), handler: ledger.debit)
        _ = server.respond(to: request, from: "p", now: at(500), handler: ledger.debit)
        #expect(ledger.runs == ["x": 2])
    }

    @Test func malformedRequestsGetNoAnswer() throws {
        var server = IdempotentServer<String>(timeToLive: .seconds(1))
        let ledger = Ledger()
        let noID = try Frame(header: FrameHeader(sequence: 1), payload: bytes("x")).encoded()
        let aReply = replyFrame(RequestID(1), "x")
        for datagram in [bytes("GET / HTTP/1.1"), [], noID, aReply] {
            #expect(server.respond(to: datagram, from: "p", now: at(0), handler: ledger.debit) == nil)
        }
        #expect(server.counters.malformed == 4 && ledger.runs.isEmpty)
    }

    @Test func aThrowingHandlerCachesNothing() throws {
        struct Refused: Error {}
        var server = IdempotentServer<String>(timeToLive: .seconds(1))
        var runs = 0
        let request = requestFrame(1, "x")
        #expect(throws: Refused.self) {
            try server.respond(to: request, from: "p", now: at(0)) { _ throws(Refused) in
                runs += 1
                throw Refused()
            }
        }
        let reply = server.respond(to: request, from: "p", now: at(1)) { _ in
            runs += 1
            return bytes("ok")
        }
        #expect(runs == 2 && reply != nil)
    }

    @Test func boundedByItsCapacityUnderManyPeers() throws {
        var server = IdempotentServer<String>(timeToLive: .seconds(60), capacity: 10)
        let ledger = Ledger()
        for index in 0..<100 {
            _ = server.respond(
                to: requestFrame(1, "p\(index)"),
                from: "peer \(index)",
                now: at(0),
                handler: ledger.debit
            )
        }
        #expect(server.cache.count == 10)
        #expect(server.counters.handled == 100)
    }
}
