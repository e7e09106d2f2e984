import Testing
import UDP
import UDPDNS

@testable import UDPDiscovery

@Suite struct MDNSResponderBoundsTests {
    let peer = SocketAddress.v4(.init(ip: IPv4Address(198, 18, 3, 9), port: 5353))
    let type = DNSName("_http._tcp.local")!
    var service: MDNSService {
        MDNSService(
            instance: "Web Server",
            type: type,
            port: 8080,
            txt: [Array("path=/".utf8)],
            host: DNSName("box.local")!,
            addresses: [.v4(IPv4Address(198, 18, 3, 2))]
        )
    }

    func announced() -> MDNSResponder {
        var responder = MDNSResponder(service: service, at: .zero)
        var now = MonotonicInstant.zero
        for _ in 0..<20 where !responder.isAnnounced {
            guard let wake = responder.nextDeadline else { break }
            now = max(now, wake)
            _ = responder.poll(at: now)
        }
        return responder
    }

    @Test func aKnownAnswerWithTheLargestTTLIsNoCrash() throws {
        var responder = announced()
        #expect(responder.isAnnounced)
        let ours = DNSRecord(name: type, ttl: .max, data: .ptr(try service.instanceName))
        // The known-answer check doubled a 32-bit TTL, which trapped at 2^31 and over.
        var query = DNSMessage(questions: [DNSQuestion(name: type, type: .ptr)], answers: [ours])
        query.id = 0
        let (messages, _) = responder.take(query, from: peer, at: responderTime(10_000))
        #expect(messages.isEmpty, "known already: not sent again")
    }

    @Test func aFloodOfConflictsKeepsBoundedStateAndIsCounted() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        _ = responder.poll(at: responderTime(300))
        var now = responderTime(300)
        for round in 0..<2_000 {
            now += .milliseconds(1)
            let name = try responder.service.instanceName
            let theirs = DNSRecord(
                name: name,
                ttl: 120,
                data: .srv(priority: 0, weight: 0, port: UInt16(1 + round % 60_000), target: DNSName("x.local")!)
            )
            var response = DNSMessage(answers: [theirs])
            response.isResponse = true
            _ = responder.take(response, from: peer, at: now)
        }
        #expect(responder.counters.conflicts == 2_000)
        #expect(responder.recentConflictCount <= MDNSResponder.conflictsRemembered)
        #expect(responder.nextDeadline.map { $0 >= now + .seconds(5) } == true, "probing backs off")
    }

    @Test func aClashWithAPublishedNameIsDefendedAndCounted() throws {
        var responder = announced()
        let theirs = DNSRecord(name: service.host, ttl: 120, data: .a(IPv4Address(198, 18, 3, 66)))
        var response = DNSMessage(answers: [theirs])
        response.isResponse = true
        let (messages, events) = responder.take(response, from: peer, at: responderTime(10_000))
        #expect(events.isEmpty && messages.count == 1)
        #expect(responder.counters.defended == 1)
    }
}
