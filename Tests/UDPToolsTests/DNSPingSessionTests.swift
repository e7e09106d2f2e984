import Testing
import UDP
import UDPDNS
import UDPTools

@Suite struct DNSPingSessionTests {
    @Test("the probe sends one query an interval, and sums up answers and losses as udp ping does")
    func probe() throws {
        let question = DNSQuestion(name: DNSName("www.example.test")!, type: .a)
        try withScriptedDNSServer(
            serving: { socket in
                // Answer the first and the third query; let the second go unanswered.
                for number in 1...3 {
                    let (query, client) = try receiveQuery(on: socket)
                    guard number != 2 else { continue }
                    try socket.socket.send(
                        try reply(to: query, answers: [aRecord("www.example.test", "198.18.0.7")]).encoded(),
                        to: client
                    )
                }
            },
            test: { server in
                var session = DNSPingSession(
                    server: server,
                    question: question,
                    count: 3,
                    interval: .milliseconds(10),
                    timeout: .milliseconds(300)
                )
                var lines: [String] = []
                let summary = try runProbe(&session, until: try StopSignal()) { event in
                    switch event {
                    case .answered(let sequence, _): lines.append("answered \(sequence)")
                    case .lost(let sequence, _): lines.append("lost \(sequence)")
                    case .query: break
                    }
                }
                #expect(lines == ["answered 1", "lost 2", "answered 3"])
                #expect(summary.counts.sent == 3 && summary.counts.received == 2 && summary.counts.lost == 1)
                #expect(
                    summary.latency.count == 2 && summary.latency.minimum ?? .zero > .zero
                        && summary.timestamps == "user"
                )
                #expect(summary.payloadSize == 45, "header 12, question 22, OPT 11")
                #expect(session.lastAnswer?.reply.message.answers.count == 1)
            }
        )
    }
}
