import Testing
import UDP
import UDPDNS
import UDPPatterns
import UDPTools

/// ICMP errors for a query: one counts only when it is about a datagram to the server and quotes the query's
/// id; a forged one that cannot (too short a quote, another id, another destination) is ignored and counted.
@Suite struct DNSStubQueryICMPTests {
    let question = DNSQuestion(name: DNSName("www.example.test")!, type: .a)
    let server = SocketAddress(IPv4Address(127, 0, 0, 1), port: 53)

    @Test("the filter believes an ICMP error only with the query's id quoted, about a datagram to the server")
    func filterMatchesTheQuote() throws {
        let query = DNSMessage.query(id: 0xBEEF, question: question, recursionDesired: true, edns: nil)
        let filter = DNSReplyFilter(server: server, query: query)
        let sent = try query.encoded()
        #expect(filter.check(portUnreachable(to: server, quoting: sent)) == nil)
        #expect(filter.check(portUnreachable(to: server, quoting: Array(sent.prefix(2)))) == nil)
        #expect(filter.check(portUnreachable(to: server, quoting: [])) == .icmpShortQuote)
        #expect(filter.check(portUnreachable(to: server, quoting: [0xBE])) == .icmpShortQuote)
        #expect(filter.check(portUnreachable(to: server, quoting: [0xBE, 0xEE] + sent.dropFirst(2))) == .icmpWrongID)
        let elsewhere = SocketAddress(IPv4Address(127, 0, 0, 1), port: 54)
        #expect(filter.check(portUnreachable(to: elsewhere, quoting: sent)) == .icmpWrongDestination)
        // The kernel's own refusal quotes nothing and cannot be forged.
        #expect(filter.check(portUnreachable(to: server, quoting: [], origin: .local)) == nil)
    }

    @Test(
        "forged ICMP errors that quote too little, another id or another destination do not end the try",
        .enabled(if: isRoot, "a raw socket needs root")
    )
    func forgedErrorsDoNotEndTheTry() throws {
        let go = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let goAddress = try go.localAddress
        let shared = SharedUDPSocket(consume go)
        try withScriptedDNSServer(
            serving: { socket in
                let (query, client) = try receiveQuery(on: socket)
                let server = try socket.socket.localAddress
                let id = [UInt8(query.id >> 8), UInt8(query.id & 0xFF)]
                let elsewhere = SocketAddress(IPv4Address(127, 0, 0, 1), port: server.port &+ 1)
                try forgePortUnreachable(from: client, to: server, quoting: [])
                try forgePortUnreachable(from: client, to: server, quoting: [id[0]])
                try forgePortUnreachable(from: client, to: server, quoting: [id[0], id[1] ^ 1, 0x01, 0x00])
                try forgePortUnreachable(from: client, to: elsewhere, quoting: id + [0x01, 0x00])
                // The answer goes once the query has seen the four (or would be lost to a try they ended).
                guard try shared.socket.receive(timeout: .seconds(5)) != nil else { return }
                try socket.socket.send(
                    try reply(to: query, answers: [aRecord("www.example.test", "198.18.0.7")]).encoded(),
                    to: client
                )
            },
            test: { server in
                var query = DNSStubQuery(
                    server: server,
                    question: question,
                    policy: RetryPolicy(attempts: 1, timeout: .seconds(5))
                )
                var forged = 0
                var ended = 0
                let (outcome, _) = try runQuery(&query, until: try StopSignal()) { event in
                    switch event {
                    case .ignored(_, _, let reason) where reason.rawValue.hasPrefix("icmp"):
                        forged += 1
                        if forged == 4 { _ = try? UDPSocket(family: .inet).send([1], to: goAddress) }
                    case .deliveryError: ended += 1
                    default: break
                    }
                }
                guard case .answered(let answer)? = outcome else {
                    Issue.record("the forged errors ended the only try: \(outcome)")
                    return
                }
                #expect(answer.attempt == 1 && ended == 0)
                #expect(query.ignored[.icmpShortQuote] == 2)
                #expect(query.ignored[.icmpWrongID] == 1 && query.ignored[.icmpWrongDestination] == 1)
            }
        )
    }

    @Test(
        "dns --count: forged short quotes lose no query of the probe",
        .enabled(if: isRoot, "a raw socket needs root")
    )
    func probeLosesNothingToForgedErrors() throws {
        let count = 3
        let go = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let goAddress = try go.localAddress
        let shared = SharedUDPSocket(consume go)
        try withScriptedDNSServer(
            serving: { socket in
                let server = try socket.socket.localAddress
                for _ in 0..<count {
                    let (query, client) = try receiveQuery(on: socket)
                    try forgePortUnreachable(from: client, to: server, quoting: [])
                    try forgePortUnreachable(from: client, to: server, quoting: [UInt8(query.id >> 8)])
                    guard try shared.socket.receive(timeout: .seconds(5)) != nil else { return }
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
                    count: count,
                    interval: .milliseconds(1),
                    timeout: .seconds(5)
                )
                var forged = 0
                let summary = try runProbe(&session, until: try StopSignal()) { event in
                    guard case .query(_, .ignored(_, _, .icmpShortQuote)) = event else { return }
                    forged += 1
                    if forged % 2 == 0 { _ = try? UDPSocket(family: .inet).send([1], to: goAddress) }
                }
                #expect(summary.counts.received == count && summary.counts.lost == 0)
                #expect(summary.icmpErrors == 0 && session.ignored[.icmpShortQuote] == 2 * count)
            }
        )
    }
}
