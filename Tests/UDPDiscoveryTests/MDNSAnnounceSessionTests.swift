import Testing
import UDP
import UDPDNS
import UDPPatterns

@testable import UDPDiscovery

// The machine behind `udp announce`, with a fake clock and scripted datagrams: RFC 6762's timings, the checks
// that keep it to the link, its goodbyes and its bounds.
@Suite struct MDNSAnnounceSessionTests {
    static let own = InterfaceAddress(address: .v4(IPv4Address(198, 18, 3, 2)), interfaceIndex: 1, prefixLength: 24)
    static let interfaces: [UInt32: [InterfaceAddress]] = [1: [own]]
    static let peer = SocketAddress(IPAddress("198.18.3.9")!, port: 5353)
    static let farPeer = SocketAddress(IPAddress("198.19.7.9")!, port: 5353)
    static let group = MDNSAnnounceSession.group(.inet)
    static let service = MDNSService(
        instance: "Web Server",
        type: DNSName("_http._tcp.local")!,
        port: 8080,
        txt: [Array("path=/".utf8)],
        host: DNSName("box.local")!,
        addresses: []
    )

    func session(
        seed: UInt64 = 6762,
        links: FakeLinkAddresses = FakeLinkAddresses(interfaces)
    ) -> MDNSAnnounceSession {
        MDNSAnnounceSession(
            family: .inet,
            service: Self.service,
            interfaces: Self.interfaces,
            at: .zero,
            addresses: links.read,
            random: SeededGenerator(seed: seed)
        )
    }

    /// A session past its probes and announcements.
    func announced() -> MDNSAnnounceSession {
        var session = session()
        _ = AnnounceHarness.advance(&session, to: .zero + .seconds(3))
        return session
    }

    func decoded(_ datagram: OutboundDatagram) throws -> DNSMessage { try DNSMessage(decoding: datagram.payload) }

    func bytes(_ message: DNSMessage) throws -> [UInt8] { try message.encoded() }

    @Test func itProbesThreeTimes250msApartThenAnnouncesTwiceASecondApart() throws {
        var session = session()
        let (sent, events) = AnnounceHarness.advance(&session, to: .zero + .seconds(4))
        let messages = try sent.map { (at: $0.at, message: try decoded($0.datagram)) }
        let probes = messages.filter { !$0.message.isResponse }
        #expect(probes.count == 3)
        #expect(probes[0].at <= .zero + .milliseconds(250), "the first probe after 0-250 ms")
        #expect(probes[0].at.duration(to: probes[1].at) == .milliseconds(250))
        #expect(probes[1].at.duration(to: probes[2].at) == .milliseconds(250))
        #expect(probes[0].message.questions.map(\.name) == [try Self.service.instanceName, Self.service.host])
        let announcements = messages.filter(\.message.isResponse)
        #expect(announcements.count == 2)
        #expect(probes[2].at.duration(to: announcements[0].at) == .milliseconds(250))
        #expect(announcements[0].at.duration(to: announcements[1].at) == .seconds(1))
        #expect(announcements[0].message.answers.contains { $0.data == .a(IPv4Address(198, 18, 3, 2)) })
        #expect(sent.allSatisfy { $0.datagram.destination == Self.group && $0.datagram.interfaceIndex == 1 })
        var published = Self.service
        published.addresses = [Self.own.address]
        #expect(events == [MDNSAnnounceSession.Event(interfaceIndex: 1, family: .inet, event: .announced(published))])
        // Then only the addresses' reading every five seconds.
        #expect(session.nextDeadline == .zero + .seconds(5))
    }

    @Test func theSameSeedProbesAtTheSameMoments() {
        var first = session(seed: 1)
        var second = session(seed: 1)
        let a = AnnounceHarness.advance(&first, to: .zero + .seconds(3)).sent.map(\.at)
        let b = AnnounceHarness.advance(&second, to: .zero + .seconds(3)).sent.map(\.at)
        #expect(a == b && !a.isEmpty)
    }

    @Test func aConflictDuringProbingRenamesAndProbesAgain() throws {
        var session = session()
        let firstProbe = try #require(session.nextDeadline)
        _ = AnnounceHarness.advance(&session, to: firstProbe)
        let theirs = DNSRecord(
            name: try Self.service.instanceName,
            rawClass: 0x8001,
            ttl: 120,
            data: .srv(priority: 0, weight: 0, port: 9999, target: DNSName("other.local")!)
        )
        var response = DNSMessage(answers: [theirs])
        response.isResponse = true
        let now = firstProbe + .milliseconds(10)
        session.handleDatagram(linkDatagram(try bytes(response), from: Self.peer), at: now)
        let (_, said) = AnnounceHarness.drain(&session, at: now)
        let renamed = DNSName("Web Server (2)._http._tcp.local")!
        #expect(said.map(\.event) == [.conflict(from: try Self.service.instanceName, to: renamed)])
        #expect(session.counters.conflicts == 1 && session.counters.responses == 1)
        #expect(session.nextDeadline == now + .milliseconds(250), "probing again 250 ms later")
        let (sent, events) = AnnounceHarness.advance(&session, to: now + .seconds(4))
        let messages = try sent.map { try decoded($0.datagram) }
        #expect(messages.filter { !$0.isResponse }.count == 3, "three new probes")
        #expect(messages.first { $0.isResponse }?.answers.contains { $0.name == renamed } == true)
        #expect(events.count == 1)
        #expect(session.counters.description == "1 responses, 1 conflicts (renamed)")
    }

    @Test func onlyQueriesFromTheLinkAreAnsweredAndTheRestCountedByReason() throws {
        var session = announced()
        let query = try bytes(DNSMessage(questions: [DNSQuestion(name: try Self.service.instanceName, type: .srv)]))
        var now = MonotonicInstant.zero + .seconds(10)
        func answers(_ datagram: InboundDatagram) -> [OutboundDatagram] {
            now += .seconds(2)  // past the once-a-second limit
            session.handleDatagram(datagram, at: now)
            return AnnounceHarness.drain(&session, at: now).sent
        }
        // Hop limit 255: from the link, whatever the source.
        #expect(answers(linkDatagram(query, from: Self.farPeer)).count == 1)
        // A lower hop limit from off the interface's networks: routed here, dropped.
        #expect(answers(linkDatagram(query, from: Self.farPeer, hopLimit: 64)).isEmpty)
        #expect(session.counters.offLink == 1 && session.offLink == 1)
        // A lower hop limit from the interface's network: a one-shot client, answered by unicast.
        let client = SocketAddress(IPAddress("198.18.3.77")!, port: 40_000)
        let reply = answers(linkDatagram(query, from: client, hopLimit: 64))
        #expect(reply.map(\.destination) == [client])
        // A response must have hop limit 255 whatever its source.
        var response = DNSMessage(answers: [DNSRecord(name: Self.service.host, ttl: 120, data: .a(.loopback))])
        response.isResponse = true
        #expect(answers(linkDatagram(try bytes(response), from: Self.peer, hopLimit: 1)).isEmpty)
        #expect(session.counters.offLink == 2)
        // An interface not announced on, and bytes that are no DNS message.
        #expect(answers(linkDatagram(query, from: Self.peer, interface: 9)).isEmpty)
        #expect(answers(linkDatagram([0x00, 0x01, 0x02], from: Self.peer)).isEmpty)
        let counters = session.counters
        #expect(counters.otherInterface == 1 && counters.malformed == 1 && session.malformed == 1)
        #expect(counters.queries == 2 && counters.responses == 0)
        #expect(counters.description == "2 queries, 1 malformed, 2 off link, 1 other interface")
    }

    @Test func stoppingQueuesTheGoodbyesAndEndsIt() throws {
        var session = announced()
        let now = MonotonicInstant.zero + .seconds(20)
        session.stop(at: now)
        let (sent, _) = AnnounceHarness.drain(&session, at: now)
        #expect(sent.count == 1 && sent.first?.destination == Self.group)
        let goodbye = try decoded(try #require(sent.first))
        #expect(goodbye.answers.count == 5 && goodbye.answers.allSatisfy { $0.ttl == 0 })
        #expect(session.isFinished && session.nextDeadline == nil)
        // Nothing after: no query taken, no second goodbye.
        let query = try bytes(DNSMessage(questions: [DNSQuestion(name: Self.service.host, type: .a)]))
        session.handleDatagram(linkDatagram(query, from: Self.peer), at: now)
        session.stop(at: now)
        #expect(AnnounceHarness.drain(&session, at: now).sent.isEmpty && session.counters.queries == 0)
    }

    @Test func stoppingWhileProbingSaysNothing() {
        var session = session()
        session.stop(at: .zero)
        #expect(AnnounceHarness.drain(&session, at: .zero).sent.isEmpty && session.isFinished)
    }

    @Test func aNewAddressReadAtTheFiveSecondCheckIsAnnounced() throws {
        let links = FakeLinkAddresses(Self.interfaces)
        var session = session(links: links)
        _ = AnnounceHarness.advance(&session, to: .zero + .seconds(3))
        let moved = InterfaceAddress(address: .v4(IPv4Address(198, 18, 3, 7)), interfaceIndex: 1, prefixLength: 24)
        links.set([1: [moved], 2: [Self.own]])
        let (sent, events) = AnnounceHarness.advance(&session, to: .zero + .seconds(8))
        let messages = try sent.map { try decoded($0.datagram) }
        #expect(sent.first?.at == .zero + .seconds(5), "read at the check, five seconds in")
        #expect(messages.first?.answers.map(\.data) == [.a(IPv4Address(198, 18, 3, 2))], "goodbye to the old one")
        #expect(messages.first?.answers.allSatisfy { $0.ttl == 0 } == true)
        #expect(messages.dropFirst().first?.answers.contains { $0.data == .a(IPv4Address(198, 18, 3, 7)) } == true)
        #expect(events.count == 1)
        // A failed read changes nothing.
        links.set(nil)
        #expect(AnnounceHarness.advance(&session, to: .zero + .seconds(30)).sent.isEmpty)
    }

    @Test func aFloodOfConflictsKeepsTheConflictStateBounded() throws {
        var session = session()
        _ = AnnounceHarness.advance(&session, to: .zero + .milliseconds(300))
        var now = MonotonicInstant.zero + .milliseconds(300)
        for round in 0..<2_000 {
            now += .milliseconds(1)
            let name = try #require(session.responders[1]).service.instanceName
            let theirs = DNSRecord(
                name: name,
                ttl: 120,
                data: .srv(priority: 0, weight: 0, port: UInt16(1 + round), target: DNSName("x.local")!)
            )
            var response = DNSMessage(answers: [theirs])
            response.isResponse = true
            session.handleDatagram(linkDatagram(try bytes(response), from: Self.peer), at: now)
            _ = AnnounceHarness.drain(&session, at: now)
        }
        #expect(session.counters.conflicts == 2_000)
        let responder = try #require(session.responders[1])
        #expect(responder.recentConflictCount <= MDNSResponder.conflictsRemembered)
        #expect(responder.rememberedMulticastCount == 0, "nothing published yet")
        #expect(responder.nextDeadline.map { $0 >= now + .seconds(5) } == true, "probing backs off")
    }

    @Test func aFloodOfQueriesKeepsTheHeldAnswersBounded() throws {
        var session = announced()
        var now = MonotonicInstant.zero + .seconds(10)
        let names = [Self.service.type, DNSSDBrowser.allTypes, try Self.service.instanceName, Self.service.host]
        for round in 0..<5_000 {
            now += .microseconds(100)
            let questions = names.map { DNSQuestion(name: $0, type: .any) }
            let sender = SocketAddress(IPAddress("198.18.3.\(1 + round % 200)")!, port: 5353)
            let query = try bytes(DNSMessage(questions: questions))
            session.handleDatagram(linkDatagram(query, from: sender), at: now)
            _ = AnnounceHarness.drain(&session, at: now)
            let responder = try #require(session.responders[1])
            #expect(responder.heldAnswerCount <= 5, "at most the service's own records")
            #expect(responder.rememberedMulticastCount <= 5)
        }
        #expect(session.counters.queries == 5_000)
    }
}
