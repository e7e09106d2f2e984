import Testing
import UDP
import UDPDNS
import UDPPatterns

/// dnsping's rules with a fake clock: the spacing of the queries, what each one measures, and the counts.
@Suite struct DNSPingSessionMachineTests {
    func session(
        count: Int = 3,
        interval: Duration = .seconds(1),
        timeout: Duration = .milliseconds(500)
    )
        -> MachineHarness<DNSPingSession>
    {
        MachineHarness(
            DNSPingSession(
                server: testServer,
                question: testQuestion,
                count: count,
                interval: interval,
                timeout: timeout,
                generator: SeededGenerator(seed: 2)
            )
        )
    }

    /// The session's events in words: `answered 1 30 ms`, `lost 2`.
    func results(_ events: [DNSPingSession.Event]) -> [String] {
        events.compactMap { event in
            switch event {
            case .answered(let sequence, let answer): "answered \(sequence) \(answer.roundTrip)"
            case .lost(let sequence, let error): "lost \(sequence)" + (error == nil ? "" : " icmp")
            case .query: nil
            }
        }
    }

    @Test("one query an interval, each a single try, from the sockets in turn; each answer's round trip")
    func spacingAndRoundTrips() throws {
        var run = session()
        for second in 0..<3 {
            run.advance(to: .zero + .seconds(second) + .milliseconds(30))
            let query = run.queries[second]
            run.receive(try answer(to: query).encoded(), from: testServer, socket: second % 2)
        }
        #expect(run.sent.map(\.at) == [.zero, .zero + .seconds(1), .zero + .seconds(2)])
        #expect(run.sent.map(\.datagram.socket) == [0, 1, 0])
        #expect(run.queries.map(\.id) == seededIDs(2, count: 3))
        #expect(
            results(run.events) == ["answered 1 0.03 seconds", "answered 2 0.03 seconds", "answered 3 0.03 seconds"]
        )
        let machine = run.machine
        #expect(machine.isFinished && machine.nextDeadline == nil && machine.inFlight == nil)
        #expect(machine.sent == 3 && machine.received == 3 && machine.lost == 0 && machine.querySize == 45)
        #expect(machine.lastAnswer?.reply.message.answers.count == 1)
    }

    @Test("an unanswered query is lost at its timeout, and a query that outlasts the interval delays the next")
    func lossAndDelay() throws {
        var run = session(timeout: .seconds(2))
        run.advance(to: .zero + .seconds(10))
        #expect(run.sent.map(\.at) == [.zero, .zero + .seconds(2), .zero + .seconds(4)])
        #expect(results(run.events) == ["lost 1", "lost 2", "lost 3"])
        #expect(run.machine.sent == 3 && run.machine.lost == 3 && run.machine.isFinished)
        #expect(run.now == .zero + .seconds(10))
    }

    @Test(
        "a query answered early waits for the interval; one answered late is followed at once, then the interval again"
    )
    func intervalFromStart() throws {
        var run = session(count: 4, interval: .seconds(1), timeout: .seconds(5))
        run.advance(by: .milliseconds(200))
        run.receive(try answer(to: run.queries[0]).encoded(), from: testServer)
        #expect(run.sent.count == 1 && run.machine.nextDeadline == .zero + .seconds(1))
        run.advance(to: .zero + .milliseconds(2500))
        #expect(run.sent.count == 2 && run.sent[1].at == .zero + .seconds(1))
        run.receive(try answer(to: run.queries[1]).encoded(), from: testServer, socket: 1)
        #expect(run.sent.count == 3 && run.sent[2].at == .zero + .milliseconds(2500), "the next went at once")
        run.receive(try answer(to: run.queries[2]).encoded(), from: testServer, socket: 0)
        #expect(results(run.events) == ["answered 1 0.2 seconds", "answered 2 1.5 seconds", "answered 3 0.0 seconds"])
        // The late start moved the schedule: the fourth goes an interval after the third's start, not sooner.
        #expect(run.machine.nextDeadline == .zero + .milliseconds(3500))
    }

    @Test("forgeries are counted over every query; a late reply on the previous query's socket is only stale")
    func ignoredAndStale() throws {
        var run = session(count: 2, timeout: .milliseconds(500))
        var wrongID = answer(to: run.queries[0])
        wrongID.id &+= 1
        run.receive(try wrongID.encoded(), from: testServer)
        run.advance(by: .seconds(1))
        #expect(run.sent.count == 2)
        run.receive(try answer(to: run.queries[0]).encoded(), from: testServer, socket: 0)
        #expect(run.machine.staleDatagrams == 1 && run.machine.ignored.total == 1)
        run.receive(try answer(to: run.queries[1]).encoded(), from: SocketAddress(testServer.ip, port: 54), socket: 1)
        run.receive(try answer(to: run.queries[1]).encoded(), from: testServer, socket: 1)
        #expect(results(run.events) == ["lost 1", "answered 2 0.0 seconds"])
        #expect(run.machine.ignored[.wrongID] == 1 && run.machine.ignored[.wrongSource] == 1)
        let reasons = run.events.compactMap { event -> String? in
            if case .query(let sequence, .ignored(_, _, let reason)) = event { return "\(sequence) \(reason)" }
            return nil
        }
        #expect(reasons == ["1 wrong id", "2 wrong source"])
    }

    @Test("an ICMP error quoting the query ends it as lost with the error; the next keeps its interval")
    func icmpEndsAQuery() throws {
        var run = session(count: 2, timeout: .seconds(5))
        run.deliver(DeliveryError.portUnreachable(to: testServer, quoting: try run.queries[0].encoded()))
        #expect(results(run.events) == ["lost 1 icmp"] && run.machine.icmpErrors == 1)
        #expect(run.sent.count == 1 && run.machine.nextDeadline == .zero + .seconds(1))
        run.advance(by: .seconds(1))
        #expect(run.sent.count == 2 && run.sent[1].at == .zero + .seconds(1))
    }

    @Test("count 0 sends until stopped; stop counts the query in flight as lost, with no event")
    func untilStopped() {
        var run = session(count: 0, interval: .milliseconds(100), timeout: .milliseconds(50))
        run.advance(to: .zero + .milliseconds(1020))
        #expect(run.sent.count == 11 && !run.machine.isFinished && run.machine.inFlight == 11)
        let events = run.events.count
        run.machine.stop()
        #expect(run.machine.sent == 11 && run.machine.lost == 11 && run.machine.inFlight == nil)
        #expect(run.machine.pollEvent() == nil && run.events.count == events)
    }
}
