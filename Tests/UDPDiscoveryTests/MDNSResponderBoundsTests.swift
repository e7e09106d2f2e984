import Testing
import UDP
import UDPDNS

@testable import UDPDiscovery

@Suite struct MDNSResponderBoundsTests {
    let ms: UInt64 = 1_000_000
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
        var responder = MDNSResponder(service: service, now: 0)
        var now: UInt64 = 0
        for _ in 0..<20 where !responder.isAnnounced {
            guard let wake = responder.nextWake else { break }
            now = max(now, wake)
            _ = responder.poll(now: now)
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
        let (messages, _) = responder.receive(query, from: peer, at: 10_000 * ms)
        #expect(messages.isEmpty, "known already: not sent again")
    }

    @Test func aFloodOfConflictsKeepsBoundedStateAndIsCounted() throws {
        var responder = MDNSResponder(service: service, now: 0)
        _ = responder.poll(now: 300 * ms)
        var now: UInt64 = 300 * ms
        for round in 0..<2_000 {
            now += ms
            let name = try responder.service.instanceName
            let theirs = DNSRecord(
                name: name,
                ttl: 120,
                data: .srv(priority: 0, weight: 0, port: UInt16(1 + round % 60_000), target: DNSName("x.local")!)
            )
            var response = DNSMessage(answers: [theirs])
            response.isResponse = true
            _ = responder.receive(response, from: peer, at: now)
        }
        #expect(responder.counters.conflicts == 2_000)
        #expect(responder.recentConflictCount <= MDNSResponder.conflictsRemembered)
        #expect(responder.nextWake.map { $0 >= now + 5_000 * ms } == true, "probing backs off")
    }

    @Test func aClashWithAPublishedNameIsDefendedAndCounted() throws {
        var responder = announced()
        let theirs = DNSRecord(name: service.host, ttl: 120, data: .a(IPv4Address(198, 18, 3, 66)))
        var response = DNSMessage(answers: [theirs])
        response.isResponse = true
        let (messages, events) = responder.receive(response, from: peer, at: 10_000 * ms)
        #expect(events.isEmpty && messages.count == 1)
        #expect(responder.counters.defended == 1)
    }
}
