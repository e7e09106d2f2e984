import Testing
import UDP
import UDPPatterns

@Suite struct RequestReplyClientTests {
    let policy = RetryPolicy(attempts: 3, timeout: .milliseconds(100), backoff: 2)

    func makeClient(
        _ policy: RetryPolicy? = nil,
        maximumOutstanding: Int = 1024,
        rememberedRequests: Int = 4096,
        seed: UInt64 = 7
    ) -> RequestReplyClient {
        RequestReplyClient(
            policy: policy ?? self.policy,
            maximumOutstanding: maximumOutstanding,
            rememberedRequests: rememberedRequests,
            generator: SeededGenerator(seed: seed)
        )
    }

    /// Everything due at `now`.
    func transmits(_ client: inout RequestReplyClient, now: MonotonicInstant) -> [RequestReplyClient.Transmit] {
        var sent: [RequestReplyClient.Transmit] = []
        while let transmit = client.pollTransmit(now: now) { sent.append(transmit) }
        return sent
    }

    /// What an echo server answers to `transmit`: "re: " and the request, echoing id and sequence.
    func answer(_ transmit: RequestReplyClient.Transmit) throws -> [UInt8] {
        let request = try decodeRequest(transmit.bytes)
        return replyFrame(request.id, "re: " + request.text, sequence: transmit.sequence)
    }

    func events(_ client: inout RequestReplyClient) -> [ClientEvent] {
        var events: [ClientEvent] = []
        while let event = client.pollEvent() { events.append(event) }
        return events
    }

    @Test func manyConcurrentRequestsMatchedOutOfOrder() throws {
        var client = makeClient()
        var expected: [RequestID: [UInt8]] = [:]
        for index in 0..<200 {
            let id = try client.start(bytes("q\(index)"), now: at(0))
            expected[id] = bytes("re: q\(index)")
        }
        #expect(client.outstandingCount == 200)
        let sent = transmits(&client, now: at(0))
        #expect(sent.count == 200)
        #expect(Set(sent.map(\.requestID)).count == 200)  // every request its own id
        #expect(Set(sent.map(\.sequence)).count == 200)
        var generator = SeededGenerator(seed: 11)
        for transmit in sent.shuffled(using: &generator) {
            let event = client.handleDatagram(try answer(transmit), now: at(5))
            #expect(event == .completed(transmit.requestID, expected[transmit.requestID]!))
        }
        #expect(client.outstandingCount == 0)
        #expect(client.nextDeadline == nil)
        #expect(client.counters.completed == 200 && client.counters.retransmitted == 0)
    }

    @Test func aLostReplyIsRetriedAndTheRetryAnswered() throws {
        var client = makeClient()
        let id = try client.start(bytes("ping"), now: at(0))
        #expect(client.nextDeadline == nil)  // nothing sent yet: poll first
        let first = transmits(&client, now: at(0))
        #expect(first.map(\.attempt) == [1])
        #expect(client.nextDeadline == at(100))
        // The reply to attempt 1 is lost.
        client.handleTimeout(now: at(99))
        #expect(transmits(&client, now: at(99)).isEmpty)
        client.handleTimeout(now: at(100))
        let second = transmits(&client, now: at(100))
        #expect(second.map(\.attempt) == [2])
        #expect(second[0].requestID == id && second[0].sequence != first[0].sequence)
        #expect(client.nextDeadline == at(300))
        #expect(client.handleDatagram(try answer(second[0]), now: at(120)) == .completed(id, bytes("re: ping")))
        #expect(client.counters.retransmitted == 1)
        #expect(events(&client).isEmpty)
    }

    @Test func duplicateAndLateRepliesAreCountedNotDelivered() throws {
        var client = makeClient()
        let answered = try client.start(bytes("a"), now: at(0))
        let abandoned = try client.start(bytes("b"), now: at(0))
        let firstRound = transmits(&client, now: at(0))
        client.handleTimeout(now: at(100))
        let secondRound = transmits(&client, now: at(100))
        #expect(secondRound.count == 2)
        // Both attempts of `answered` get replies: the second is a duplicate.
        #expect(client.handleDatagram(try answer(firstRound[0]), now: at(150)) == .completed(answered, bytes("re: a")))
        #expect(client.handleDatagram(try answer(secondRound[0]), now: at(151)) == .ignored(.duplicate))
        // `abandoned` gives up; its reply comes after.
        client.handleTimeout(now: at(300))
        _ = transmits(&client, now: at(300))
        client.handleTimeout(now: at(700))
        #expect(events(&client) == [.failed(abandoned, .noReply(attempts: 3))])
        #expect(client.handleDatagram(try answer(firstRound[1]), now: at(800)) == .ignored(.late))
        #expect(client.counters.duplicates == 1 && client.counters.late == 1 && client.counters.completed == 1)
    }

    @Test func noReplyAfterNAttempts() throws {
        var client = makeClient()
        let id = try client.start(bytes("anyone?"), now: at(0))
        var sentAt: [Int] = []
        for millisecond in stride(from: 0, through: 1_000, by: 10) {
            client.handleTimeout(now: at(millisecond))
            for transmit in transmits(&client, now: at(millisecond)) {
                #expect(transmit.attempt == sentAt.count + 1)
                sentAt.append(millisecond)
            }
        }
        #expect(sentAt == [0, 100, 300])  // waits of 100, 200 and 400 ms
        #expect(events(&client) == [.failed(id, .noReply(attempts: 3))])
        #expect(!client.isOutstanding(id))
        #expect(client.counters.failed == 1 && client.counters.transmitted == 3)
    }

    @Test func theFailureComesExactlyWhenTheLastWaitEnds() throws {
        var client = makeClient()
        let id = try client.start(bytes("x"), now: at(0))
        for now in [0, 100, 300] {
            client.handleTimeout(now: at(now))
            #expect(transmits(&client, now: at(now)).count == 1)
        }
        #expect(client.nextDeadline == at(700))
        client.handleTimeout(now: at(699))
        #expect(events(&client).isEmpty)
        client.handleTimeout(now: at(700))
        #expect(events(&client) == [.failed(id, .noReply(attempts: 3))])
    }

    @Test func theDeadlineEndsARequestWithAttemptsLeft() throws {
        var client = makeClient(RetryPolicy(attempts: 10, timeout: .milliseconds(100), deadline: .milliseconds(250)))
        let id = try client.start(bytes("x"), now: at(0))
        _ = transmits(&client, now: at(0))
        client.handleTimeout(now: at(100))
        _ = transmits(&client, now: at(100))
        #expect(client.nextDeadline == at(250))
        client.handleTimeout(now: at(250))
        #expect(transmits(&client, now: at(250)).isEmpty)
        #expect(events(&client) == [.failed(id, .deadlineExceeded)])
    }

    @Test func theDeadlineRunsEvenBeforeTheFirstSend() throws {
        var client = makeClient(RetryPolicy(attempts: 3, timeout: .milliseconds(100), deadline: .milliseconds(50)))
        let id = try client.start(bytes("x"), now: at(0))
        #expect(client.nextDeadline == at(50))
        #expect(transmits(&client, now: at(60)).isEmpty)  // polled too late: fails instead of sending
        #expect(events(&client) == [.failed(id, .deadlineExceeded)])
    }

    @Test func cancellationStopsRetriesAndMakesTheReplyLate() throws {
        var client = makeClient()
        let kept = try client.start(bytes("keep"), now: at(0))
        let dropped = try client.start(bytes("drop"), now: at(0))
        let sent = transmits(&client, now: at(0))
        let cancelled = client.cancel(dropped)
        let cancelledAgain = client.cancel(dropped)
        #expect(cancelled && !cancelledAgain)  // only once
        client.handleTimeout(now: at(100))
        #expect(transmits(&client, now: at(100)).map(\.requestID) == [kept])
        #expect(client.handleDatagram(try answer(sent[1]), now: at(110)) == .ignored(.late))
        #expect(events(&client).isEmpty)  // a cancelled request reports nothing
        #expect(client.counters.cancelled == 1)
    }

    @Test func cancellingBeforeTheFirstSendSendsNothing() throws {
        var client = makeClient()
        let id = try client.start(bytes("x"), now: at(0))
        client.cancel(id)
        #expect(transmits(&client, now: at(0)).isEmpty)
        #expect(client.nextDeadline == nil)
    }

    @Test func strangersAndGarbageAreIgnored() throws {
        var client = makeClient()
        let id = try client.start(bytes("x"), now: at(0))
        let sent = transmits(&client, now: at(0))
        #expect(
            client.handleDatagram(replyFrame(RequestID(id.rawValue &+ 1_000), "?"), now: at(1)) == .ignored(.unknown)
        )
        #expect(client.handleDatagram(bytes("hello"), now: at(1)) == .ignored(.malformed))
        #expect(client.handleDatagram(sent[0].bytes, now: at(1)) == .ignored(.malformed))  // a request, not a reply
        let noID = try Frame(header: FrameHeader(isReply: true), payload: []).encoded()
        #expect(client.handleDatagram(noID, now: at(1)) == .ignored(.malformed))
        #expect(client.isOutstanding(id))
        #expect(client.counters.unknown == 1 && client.counters.malformed == 3)
    }

    @Test func aReplyLongAfterItsRequestIsStillLateNotUnknown() throws {
        var client = makeClient(rememberedRequests: 1)
        let old = try client.start(bytes("old"), now: at(0))
        let sent = transmits(&client, now: at(0))
        client.cancel(old)
        for _ in 0..<5 {  // push `old` out of memory
            let id = try client.start(bytes("more"), now: at(1))
            client.cancel(id)
        }
        #expect(client.handleDatagram(try answer(sent[0]), now: at(2)) == .ignored(.late))
    }

    @Test func refusesTooManyOutstandingRequests() throws {
        var client = makeClient(maximumOutstanding: 2)
        let first = try client.start(bytes("1"), now: at(0))
        _ = try client.start(bytes("2"), now: at(0))
        #expect(throws: RequestReplyClient.StartError.tooManyOutstanding(limit: 2)) {
            try client.start(bytes("3"), now: at(0))
        }
        client.cancel(first)
        _ = try client.start(bytes("3"), now: at(0))
    }

    @Test func refusesRequestsOverTheBudget() throws {
        var client = makeClient()
        _ = try client.start([UInt8](repeating: 0, count: 1184), now: at(0))  // 1184 + 16 = 1200: fits
        let error = #expect(throws: RequestReplyClient.StartError.self) {
            try client.start([UInt8](repeating: 0, count: 1814), now: at(0))
        }
        #expect(error == .exceedsBudget(DatagramBudget.Exceeded(size: 1830, budget: 1200)))
        #expect(error?.description == "message of 1830 bytes exceeds the datagram budget of 1200 bytes")
    }

    @Test func idsStartAtRandomAndNeverRepeatWhileOutstanding() throws {
        var first = makeClient(seed: 1)
        var second = makeClient(seed: 2)
        let a = try first.start([], now: at(0))
        let b = try second.start([], now: at(0))
        #expect(a != b)
        var seen: Set<RequestID> = [a]
        for _ in 0..<1_000 {
            let id = try first.start([], now: at(0))
            #expect(seen.insert(id).inserted)
            if seen.count % 3 == 0 { first.cancel(id) }
        }
    }

    @Test func jitteredRetriesStayWithinTheirBounds() throws {
        let jittered = RetryPolicy(attempts: 4, timeout: .milliseconds(100), backoff: 2, jitter: .full)
        var client = makeClient(jittered, seed: 99)
        for _ in 0..<50 { _ = try client.start([], now: at(0)) }
        var attemptTimes: [RequestID: [Int]] = [:]
        for millisecond in 0...1_600 {
            client.handleTimeout(now: at(millisecond))
            for transmit in transmits(&client, now: at(millisecond)) {
                attemptTimes[transmit.requestID, default: []].append(millisecond)
            }
        }
        #expect(events(&client).count == 50)
        for times in attemptTimes.values {
            #expect(times.count == 4)
            let waits = zip(times.dropFirst(), times).map { $0 - $1 }
            #expect(waits[0] == 100)  // the first wait is never jittered
            #expect((100...201).contains(waits[1]) && (100...401).contains(waits[2]))
        }
        #expect(Set(attemptTimes.values.map { $0[3] }).count > 10)  // the retries spread out
    }

    /// A seeded storm of starts, replies (some duplicated), cancellations and timeouts against a model:
    /// every request ends exactly once, with its own reply, and the next deadline stays exact.
    @Test func aSeededStormKeepsEveryRequestAccountedFor() throws {
        let stormPolicy = RetryPolicy(
            attempts: 3,
            timeout: .milliseconds(30),
            deadline: .milliseconds(200),
            jitter: .full
        )
        var client = makeClient(stormPolicy, maximumOutstanding: 64, rememberedRequests: 128, seed: 31)
        var generator = SeededGenerator(seed: 32)
        var outcomes: [RequestID: String] = [:]
        var payloads: [RequestID: String] = [:]
        // Ids in the order they were started: cancellation picks from this, never from `payloads.keys`, whose
        // order changes with every process (hashing is seeded per process) and would make the storm differ.
        var started: [RequestID] = []
        var inFlight: [RequestReplyClient.Transmit] = []
        var now = 0
        for step in 0..<20_000 {
            now += Int.random(in: 0...3, using: &generator)
            switch Int.random(in: 0..<10, using: &generator) {
            case 0...1 where client.outstandingCount < 64:
                let id = try client.start(bytes("r\(step)"), now: at(now))
                payloads[id] = "r\(step)"
                started.append(id)
            case 2...3 where !inFlight.isEmpty:
                // Answer one of the latest datagrams sent, maybe twice; older ones are lost.
                let latest = max(0, inFlight.count - 8)..<inFlight.count
                let transmit = inFlight.remove(at: Int.random(in: latest, using: &generator))
                for _ in 0..<Int.random(in: 1...2, using: &generator) {
                    if case .completed(let id, let payload) = client.handleDatagram(try answer(transmit), now: at(now))
                    {
                        #expect(outcomes[id] == nil && payload == bytes("re: " + payloads[id]!))
                        outcomes[id] = "completed"
                    }
                }
            case 4 where !inFlight.isEmpty:
                inFlight.remove(at: Int.random(in: 0..<inFlight.count, using: &generator))  // lost
            case 5 where !started.isEmpty:
                // Mostly recent ids, so most cancellations find the request still outstanding.
                let recent = max(0, started.count - 64)..<started.count
                let id = started[Int.random(in: recent, using: &generator)]
                if client.cancel(id) {
                    #expect(outcomes[id] == nil)
                    outcomes[id] = "cancelled"
                }
            default:
                break
            }
            client.handleTimeout(now: at(now))
            inFlight = Array((inFlight + transmits(&client, now: at(now))).suffix(64))
            for case .failed(let id, _) in events(&client) {
                #expect(outcomes[id] == nil)
                outcomes[id] = "failed"
            }
            #expect((client.nextDeadline == nil) == (client.outstandingCount == 0))
            if let deadline = client.nextDeadline { #expect(deadline > at(now)) }
        }
        client.handleTimeout(now: at(now + 1_000))
        for case .failed(let id, _) in events(&client) { outcomes[id] = "failed" }
        #expect(client.outstandingCount == 0 && client.nextDeadline == nil)
        #expect(outcomes.count == payloads.count)
        let counters = client.counters
        #expect(counters.started == counters.completed + counters.failed + counters.cancelled)
        // The seed gives a storm with every outcome well represented.
        #expect(counters.completed > 1_000 && counters.failed > 100 && counters.cancelled > 10)
        #expect(counters.duplicates > 100 && counters.late > 50 && counters.retransmitted > 1_000)
    }
}
