import Testing
import UDP
import UDPDNS
import UDPPatterns
import UDPTools

/// The stub resolver's engine against scripted servers on loopback.
@Suite struct DNSStubQueryTests {
    let question = DNSQuestion(name: DNSName("www.example.test")!, type: .a)

    /// A policy for tests: `tries` tries, the first waiting `timeout` seconds, each wait twice the one before.
    func policy(_ tries: Int, _ timeout: Double) -> RetryPolicy {
        RetryPolicy(attempts: tries, timeout: .seconds(timeout), backoff: 2)
    }

    @Test("the query asks with RD, EDNS(0) at 1232 bytes and a random id; the reply's records come back")
    func oneQueryAnswered() throws {
        let asked = try withScriptedDNSServer(
            serving: { socket in
                let (query, client) = try receiveQuery(on: socket)
                try socket.socket.send(
                    try reply(to: query, answers: [aRecord("www.example.test", "198.18.0.7")]).encoded(),
                    to: client
                )
                return query
            },
            test: { server in
                var query = DNSStubQuery(server: server, question: question)
                var sent: [(id: UInt16, socket: Int)] = []
                let (outcome, sources) = try runQuery(&query, until: try StopSignal()) { event in
                    if case .sent(1, let id, let socket, _) = event { sent.append((id, socket)) }
                }
                for (_, socket) in sent {
                    #expect(sources[socket].port != 0 && sources[socket].port != server.port)
                }
                guard case .answered(let answer)? = outcome else {
                    Issue.record("\(outcome)")
                    return
                }
                #expect(answer.reply.message.answers == [aRecord("www.example.test", "198.18.0.7")])
                #expect(answer.attempt == 1 && answer.roundTrip > .zero && answer.server == server)
                #expect(query.ignored.total == 0 && query.triesSent == 1 && sent.count == 1)
            }
        )
        #expect(asked.recursionDesired && asked.questions == [question] && asked.opcode == 0)
        #expect(try asked.edns == EDNS(udpPayloadSize: 1232))
    }

    @Test("forged replies raced ahead of the real one never win, and each is counted by its reason")
    func forgeriesLose() throws {
        try withScriptedDNSServer(
            serving: { socket in
                let (query, client) = try receiveQuery(on: socket)
                let forged = aRecord("www.example.test", "198.18.66.66")
                var wrongID = reply(to: query, answers: [forged])
                wrongID.id &+= 1
                var wrongQuestion = reply(to: query, answers: [forged])
                wrongQuestion.questions[0].name = DNSName("www.example.test.evil")!
                var notAResponse = reply(to: query, answers: [forged])
                notAResponse.isResponse = false
                for message in [wrongID, wrongQuestion, notAResponse] {
                    try socket.socket.send(try message.encoded(), to: client)
                }
                try socket.socket.send([0xDE, 0xAD, 0xBE, 0xEF], to: client)
                // The right message from the wrong places: another port, another loopback address.
                let right = try reply(to: query, answers: [forged]).encoded()
                try UDPSocket(bindingTo: .loopbackV4(port: 0)).send(right, to: client)
                try UDPSocket(bindingTo: try SocketAddress(parsing: "127.0.0.2:0")).send(right, to: client)
                try socket.socket.send(
                    try reply(to: query, answers: [aRecord("www.example.test", "198.18.0.7")]).encoded(),
                    to: client
                )
            },
            test: { server in
                var query = DNSStubQuery(server: server, question: question, policy: policy(1, 5))
                var ignoredEvents = 0
                let (outcome, _) = try runQuery(&query, until: try StopSignal()) { event in
                    if case .ignored = event { ignoredEvents += 1 }
                }
                guard case .answered(let answer)? = outcome else {
                    Issue.record("\(outcome)")
                    return
                }
                #expect(answer.reply.message.answers == [aRecord("www.example.test", "198.18.0.7")])
                #expect(query.ignored.total == 6 && ignoredEvents == 6)
                #expect(query.ignored[.wrongSource] == 2 && query.ignored[.wrongID] == 1)
                #expect(query.ignored[.wrongQuestion] == 1 && query.ignored[.notAResponse] == 1)
                #expect(query.ignored[.malformed] == 1)
            }
        )
    }

    @Test("an unanswered try is sent again with a new id from a new port, and a late reply to the first still counts")
    func retriesAndLateReplies() throws {
        try withScriptedDNSServer(
            serving: { socket in
                let first = try receiveQuery(on: socket)
                let second = try receiveQuery(on: socket)
                #expect(first.query.id != second.query.id || first.client.port != second.client.port)
                #expect(first.client.port != second.client.port)
                // Answer the first try only, after the second went out.
                try socket.socket.send(
                    try reply(to: first.query, answers: [aRecord("www.example.test", "198.18.0.7")]).encoded(),
                    to: first.client
                )
            },
            test: { server in
                var query = DNSStubQuery(server: server, question: question, policy: policy(3, 0.2))
                let (outcome, _) = try runQuery(&query, until: try StopSignal())
                guard case .answered(let answer)? = outcome else {
                    Issue.record("\(outcome)")
                    return
                }
                #expect(answer.attempt == 1 && query.triesSent == 2)
                #expect(answer.roundTrip >= .milliseconds(200), "the first try waited its 0.2 s before the second went")
            }
        )
    }

    @Test("with nobody listening, each try ends at its ICMP error and the query gives up without waiting")
    func refusedTriesEndAtOnce() throws {
        let closed = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let server = try closed.localAddress
        _ = consume closed
        var query = DNSStubQuery(server: server, question: question, policy: policy(3, 5))
        var errors: [DeliveryError.Kind] = []
        let clock = ContinuousClock()
        let start = clock.now
        let (outcome, _) = try runQuery(&query, until: try StopSignal()) { event in
            if case .deliveryError(let error, _) = event { errors.append(error.kind) }
        }
        guard case .noReply(let tries, let lastError)? = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(tries == 3 && errors == [.portUnreachable, .portUnreachable, .portUnreachable])
        #expect(lastError?.kind == .portUnreachable)
        #expect(clock.now - start < .seconds(2), "the 5, 10 and 20-second waits were cut short")
    }

    @Test("a server that never answers: every try waits its turn, then no reply")
    func silence() throws {
        try withScriptedDNSServer(
            serving: { socket in
                _ = try receiveQuery(on: socket)
                _ = try receiveQuery(on: socket)
            },
            test: { server in
                var query = DNSStubQuery(server: server, question: question, policy: policy(2, 0.1))
                let clock = ContinuousClock()
                let start = clock.now
                let (outcome, _) = try runQuery(&query, until: try StopSignal())
                guard case .noReply(2, nil)? = outcome else {
                    Issue.record("\(outcome)")
                    return
                }
                #expect(clock.now - start >= .milliseconds(300), "0.1 s, then 0.2 s")
            }
        )
    }

    @Test("a stop request ends the wait at once")
    func stops() throws {
        let silent = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        var query = DNSStubQuery(server: try silent.localAddress, question: question, policy: policy(1, 30))
        let stop = try StopSignal()
        let (outcome, _) = try runQuery(&query, until: stop) { event in
            if case .sent = event { stop.request() }
        }
        guard outcome == nil else {
            Issue.record("\(outcome)")
            return
        }
    }
}
