import Testing
import UDP
import UDPDNS
import UDPPatterns

/// The stub query's rules with a fake clock and scripted datagrams: no socket.
@Suite struct DNSStubQueryMachineTests {
    /// A query of `tries` tries, the first waiting `timeout`, each wait twice the one before, ids from seed 1.
    func query(
        tries: Int = 3,
        timeout: Duration = .seconds(2),
        servers: [SocketAddress] = [testServer],
        deadline: Duration? = nil
    ) -> MachineHarness<DNSStubQuery> {
        MachineHarness(
            DNSStubQuery(
                servers: servers,
                question: testQuestion,
                policy: RetryPolicy(attempts: tries, timeout: timeout, backoff: 2, deadline: deadline),
                generator: SeededGenerator(seed: 1)
            )
        )
    }

    @Test("the first try goes at once: RD, EDNS(0) at 1232 bytes, the generator's id, from socket 0")
    func firstTry() throws {
        let run = query()
        #expect(run.sent.count == 1 && run.sent[0].datagram.socket == 0)
        #expect(run.sent[0].datagram.destination == testServer && run.sent[0].at == .zero)
        let sent = run.queries[0]
        #expect(sent.id == seededIDs(1, count: 1)[0])
        #expect(sent.recursionDesired && sent.questions == [testQuestion] && sent.opcode == 0)
        #expect(try sent.edns == EDNS(udpPayloadSize: 1232))
        guard case .sent(1, let id, 0, 45)? = run.events.first else {
            Issue.record("\(run.events)")
            return
        }
        #expect(id == sent.id)
        #expect(run.machine.socketsNeeded == 3 && run.machine.triesSent == 1)
    }

    @Test("seed 7 draws the ids the fuzz corpora's replies carry (Fuzz/Corpus/FuzzDNSStubQuery, FuzzDNSPingSession)")
    func fuzzCorpusIDs() {
        #expect(seededIDs(7, count: 3) == [3543, 26140, 10754])
    }

    @Test("unanswered tries go again after 2, 4 and 8 seconds, each with a new id from the next socket")
    func retriesOnThePolicysSchedule() {
        var run = query()
        run.advance(to: .zero + .milliseconds(1999))
        #expect(run.sent.count == 1, "nothing before the first wait is over")
        run.advance(to: .zero + .seconds(20))
        #expect(run.sent.map(\.at) == [.zero, .zero + .seconds(2), .zero + .seconds(6)])
        #expect(run.sent.map(\.datagram.socket) == [0, 1, 2])
        #expect(run.queries.map(\.id) == seededIDs(1, count: 3))
        guard case .noReply(3, nil)? = run.machine.outcome else {
            Issue.record("\(String(describing: run.machine.outcome))")
            return
        }
        #expect(run.machine.isFinished && run.machine.nextDeadline == nil)
    }

    @Test("the policy's overall deadline cuts the tries short")
    func overallDeadline() {
        var run = query(deadline: .seconds(3))
        run.advance(by: .seconds(10))
        #expect(run.sent.count == 2)
        guard case .noReply(2, nil)? = run.machine.outcome else {
            Issue.record("\(String(describing: run.machine.outcome))")
            return
        }
    }

    @Test("with several servers, the tries rotate among them; the reply must come from the try's own")
    func rotation() throws {
        var run = query(servers: [testServer, otherServer])
        run.advance(by: .seconds(2))
        run.advance(by: .seconds(4))
        #expect(run.sent.map(\.datagram.destination) == [testServer, otherServer, testServer])
        let second = run.queries[1]
        // The second try's reply, from the first server: not from where the second try went.
        run.receive(try answer(to: second).encoded(), from: testServer, socket: 1)
        #expect(run.machine.ignored[.wrongSource] == 1 && run.machine.outcome == nil)
        run.receive(try answer(to: second).encoded(), from: otherServer, socket: 1)
        guard case .answered(let reply)? = run.machine.outcome else {
            Issue.record("\(String(describing: run.machine.outcome))")
            return
        }
        #expect(reply.server == otherServer && reply.attempt == 2 && reply.roundTrip == .seconds(4))
    }

    @Test("a late reply to the first try still counts while the second waits")
    func lateReply() throws {
        var run = query(timeout: .milliseconds(200))
        run.advance(by: .milliseconds(250))
        #expect(run.sent.count == 2)
        run.receive(try answer(to: run.queries[0]).encoded(), from: testServer, socket: 0)
        guard case .answered(let reply)? = run.machine.outcome else {
            Issue.record("\(String(describing: run.machine.outcome))")
            return
        }
        #expect(reply.attempt == 1 && reply.roundTrip == .milliseconds(250))
        #expect(reply.reply.message.answers.count == 1 && run.machine.isFinished)
    }

    @Test("replies with the wrong id, question or source are ignored and counted by reason; the real one wins")
    func forgeriesAreCounted() throws {
        var run = query(tries: 1)
        let sent = run.queries[0]
        var wrongID = answer(to: sent)
        wrongID.id &+= 1
        var wrongQuestion = answer(to: sent)
        wrongQuestion.questions[0].name = DNSName("www.example.test.evil")!
        var notAResponse = answer(to: sent)
        notAResponse.isResponse = false
        for message in [wrongID, wrongQuestion, notAResponse] {
            run.receive(try message.encoded(), from: testServer)
        }
        run.receive([0xDE, 0xAD, 0xBE, 0xEF], from: testServer)
        run.receive(try answer(to: sent).encoded(), from: SocketAddress(IPv4Address(198, 18, 0, 53), port: 5353))
        run.receive(try answer(to: sent).encoded(), from: SocketAddress(IPv4Address(198, 18, 0, 66), port: 53))
        #expect(run.machine.outcome == nil)
        run.receive(try answer(to: sent).encoded(), from: testServer)
        guard case .answered? = run.machine.outcome else {
            Issue.record("\(String(describing: run.machine.outcome))")
            return
        }
        let ignored = run.machine.ignored
        #expect(ignored.total == 6 && ignored[.wrongSource] == 2 && ignored[.wrongID] == 1)
        #expect(ignored[.wrongQuestion] == 1 && ignored[.notAResponse] == 1 && ignored[.malformed] == 1)
        let reasons = run.events.compactMap { event -> DNSIgnoredReason? in
            if case .ignored(_, _, let reason) = event { return reason }
            return nil
        }
        #expect(reasons == [.wrongID, .wrongQuestion, .notAResponse, .malformed, .wrongSource, .wrongSource])
        #expect(run.machine.datagramsReceived == 7)
    }

    @Test("a truncated reply is the answer, whole or cut inside a record")
    func truncatedReply() throws {
        var whole = query(tries: 1)
        whole.receive(try answer(to: whole.queries[0], flags: 0x8600).encoded(), from: testServer)
        guard case .answered(let reply)? = whole.machine.outcome else {
            Issue.record("\(String(describing: whole.machine.outcome))")
            return
        }
        #expect(reply.reply.message.isTruncated && !reply.reply.recordsUnreadable)
        #expect(reply.reply.message.answers.count == 1)

        var cut = query(tries: 1)
        let bytes = try answer(to: cut.queries[0], flags: 0x8600).encoded()
        cut.receive(Array(bytes.dropLast(3)), from: testServer)
        guard case .answered(let partial)? = cut.machine.outcome else {
            Issue.record("\(String(describing: cut.machine.outcome))")
            return
        }
        #expect(partial.reply.recordsUnreadable && partial.reply.message.answers.isEmpty)
        #expect(partial.reply.size == bytes.count - 3)
    }

    @Test("an ICMP error quoting the try's id ends it, and the next try goes at once")
    func icmpFailsOver() throws {
        var run = query()
        let first = try run.queries[0].encoded()
        run.deliver(DeliveryError.portUnreachable(to: testServer, quoting: first))
        #expect(run.sent.count == 2 && run.sent[1].at == .zero && run.sent[1].datagram.socket == 1)
        #expect(run.events.contains { if case .deliveryError(_, 1) = $0 { true } else { false } })
        // A second error about the ended try changes nothing.
        run.deliver(DeliveryError.portUnreachable(to: testServer, quoting: first))
        #expect(run.sent.count == 2 && run.machine.droppedAfterFailure == 1)
        run.deliver(DeliveryError.portUnreachable(to: testServer, quoting: try run.queries[1].encoded()), socket: 1)
        run.deliver(DeliveryError.portUnreachable(to: testServer, quoting: try run.queries[2].encoded()), socket: 2)
        guard case .noReply(3, let lastError?)? = run.machine.outcome else {
            Issue.record("\(String(describing: run.machine.outcome))")
            return
        }
        #expect(lastError.kind == .portUnreachable && run.now == .zero, "the waits of 2, 4 and 8 s were cut short")
    }

    @Test("an ICMP error quoting another query, too little, or another destination is counted and ends nothing")
    func forgedICMPIsCounted() throws {
        var run = query()
        let sent = try run.queries[0].encoded()
        run.deliver(DeliveryError.portUnreachable(to: testServer, quoting: [sent[0], sent[1] ^ 1] + sent.dropFirst(2)))
        run.deliver(DeliveryError.portUnreachable(to: testServer, quoting: [sent[0]]))
        run.deliver(DeliveryError.portUnreachable(to: otherServer, quoting: sent))
        #expect(run.sent.count == 1 && run.machine.outcome == nil)
        let ignored = run.machine.ignored
        #expect(ignored[.icmpWrongID] == 1 && ignored[.icmpShortQuote] == 1 && ignored[.icmpWrongDestination] == 1)
        guard case .ignored(let sender, 1, .icmpShortQuote) = run.events[2] else {
            Issue.record("\(run.events)")
            return
        }
        #expect(sender == SocketAddress(testServer.ip, port: 0))
        // The kernel's own refusal quotes nothing and cannot be forged: it counts.
        var local = DeliveryError.portUnreachable(to: testServer, quoting: [])
        local.origin = .local
        run.deliver(local)
        #expect(run.sent.count == 2)
    }

    @Test("an ICMP error for an earlier try while a later one waits ends only that try")
    func icmpForAnEarlierTry() throws {
        var run = query()
        run.advance(by: .seconds(2))
        run.deliver(DeliveryError.portUnreachable(to: testServer, quoting: try run.queries[0].encoded()), socket: 0)
        #expect(run.sent.count == 2 && run.machine.outcome == nil)
        #expect(run.machine.nextDeadline == .zero + .seconds(6))
    }

    @Test("datagrams and errors on a socket no try has used are ignored; a refused send ends the query")
    func unusedSocketsAndRefusedSends() throws {
        var run = query()
        run.receive(try answer(to: run.queries[0]).encoded(), from: testServer, socket: 2)
        run.receive([1], from: otherServer, socket: 1)
        run.deliver(DeliveryError.portUnreachable(to: otherServer, quoting: []), socket: 2)
        #expect(run.machine.ignored[.wrongID] == 1 && run.machine.ignored[.wrongSource] == 1)
        #expect(run.machine.ignored[.icmpWrongDestination] == 1 && run.machine.outcome == nil)
        let datagram = run.sent[0].datagram
        run.machine.handleSendReport(
            .failed(datagram, socket: 0, error: UDPError(.send, errno: .networkUnreachable)),
            at: run.now
        )
        guard case .sendFailed(_, 1)? = run.machine.outcome else {
            Issue.record("\(String(describing: run.machine.outcome))")
            return
        }
    }

    @Test("a flood that is never polled holds at most eventLimit events, and every datagram is counted")
    func eventsAreBounded() {
        var machine = DNSStubQuery(server: testServer, question: testQuestion, generator: SeededGenerator(seed: 1))
        _ = machine.pollTransmit(at: .zero)
        for _ in 0..<1_000 { machine.handleDatagram(InboundDatagram([0], from: testServer), at: .zero) }
        var events = 0
        while machine.pollEvent() != nil { events += 1 }
        #expect(events == DNSStubQuery.eventLimit && machine.eventsDropped == 1_000 - events)
        #expect(machine.ignored[.malformed] == 1_000)
    }
}
