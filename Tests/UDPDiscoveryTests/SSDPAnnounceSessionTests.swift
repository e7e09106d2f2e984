import Testing
import UDP
import UDPPatterns

@testable import UDPDiscovery

// The machine behind `udp announce --ssdp`, with a fake clock and a seeded generator: the NOTIFY schedule, the
// answer delay within MX, the on-link check, the byebyes and the bound on waiting answers.
@Suite struct SSDPAnnounceSessionTests {
    static let type = "urn:schemas-upnp-org:device:MediaServer:2"
    static let own = InterfaceAddress(address: .v4(IPv4Address(198, 18, 3, 2)), interfaceIndex: 1, prefixLength: 24)
    static let interfaces: [UInt32: [InterfaceAddress]] = [1: [own]]
    static let controlPoint = SocketAddress(IPAddress("198.18.3.1")!, port: 40_000)
    static let group = SSDPAnnounceSession.group(.inet)
    static let advertisements = SSDPResponder.advertisements(
        uuid: "1234",
        type: type,
        location: "http://198.18.3.2/desc.xml",
        server: "Linux UPnP/1.1 test/1",
        maximumAge: 1800
    )

    func session(seed: UInt64 = 1900) -> SSDPAnnounceSession {
        SSDPAnnounceSession(
            family: .inet,
            advertisements: Self.advertisements,
            interfaces: Self.interfaces,
            at: .zero,
            addresses: FakeLinkAddresses(Self.interfaces).read,
            random: SeededGenerator(seed: seed)
        )
    }

    func search(_ target: String, mx: Int) -> [UInt8] {
        SSDPMessage.search(SSDPSearch(target: target, maximumWait: mx)).encoded(for: .inet)
    }

    func parsed(_ datagram: OutboundDatagram) throws -> SSDPMessage { try SSDPMessage(parsing: datagram.payload) }

    @Test func itNotifiesThreeTimes500msApartThenBeforeHalfTheMaxAge() throws {
        var session = session()
        let (sent, events) = AnnounceHarness.advance(&session, to: .zero + .seconds(2))
        let times = Set(sent.map(\.at)).sorted()
        #expect(times.count == 3)
        #expect(times[0] <= .zero + .milliseconds(100))
        #expect(times[0].duration(to: times[1]) == .milliseconds(500))
        #expect(times[1].duration(to: times[2]) == .milliseconds(500))
        #expect(sent.count == 9 && sent.allSatisfy { $0.datagram.destination == Self.group })
        #expect(sent.allSatisfy { $0.datagram.interfaceIndex == 1 })
        for datagram in sent.map(\.datagram) {
            guard case .notify(_, .alive) = try parsed(datagram) else {
                Issue.record("not an alive")
                continue
            }
        }
        #expect(
            events == [
                SSDPAnnounceSession.Event(interfaceIndex: 1, family: .inet, kind: .announced(Self.advertisements))
            ]
        )
        // The refresh: in the second quarter of max-age (450-900 s after the third), and once more after it.
        let (later, again) = AnnounceHarness.advance(&session, to: times[2] + .seconds(900))
        let refresh = Set(later.map(\.at)).sorted()
        #expect(refresh.count == 1 && later.count == 3 && again.isEmpty, "announced once, reported once")
        #expect(refresh[0] >= times[2] + .seconds(450) && refresh[0] <= times[2] + .seconds(900))
    }

    @Test func aSearchIsAnsweredWithinMXAndTheSeedFixesWhen() throws {
        for seed: UInt64 in 1...20 {
            var session = session(seed: seed)
            _ = AnnounceHarness.advance(&session, to: .zero + .seconds(2))
            let now = MonotonicInstant.zero + .seconds(2)
            let datagram = linkDatagram(
                search("ssdp:all", mx: 3),
                from: Self.controlPoint,
                to: Self.group.ip
            )
            session.handleDatagram(datagram, at: now)
            #expect(AnnounceHarness.drain(&session, at: now).sent.isEmpty, "never at once")
            let (answers, _) = AnnounceHarness.advance(&session, to: now + .seconds(5))
            #expect(answers.count == 3)
            #expect(answers.allSatisfy { $0.at >= now && $0.at < now + .milliseconds(2_750) }, "within MX, less 250 ms")
            #expect(answers.allSatisfy { $0.datagram.destination == Self.controlPoint })
            var twin = self.session(seed: seed)
            _ = AnnounceHarness.advance(&twin, to: now)
            twin.handleDatagram(datagram, at: now)
            #expect(AnnounceHarness.advance(&twin, to: now + .seconds(5)).sent.map(\.at) == answers.map(\.at))
        }
    }

    @Test func aUnicastSearchIsAnsweredAtOnce() throws {
        var session = session()
        let now = MonotonicInstant.zero + .seconds(2)
        _ = AnnounceHarness.advance(&session, to: now)
        let to = IPAddress("198.18.3.2")!
        session.handleDatagram(
            linkDatagram(search(Self.type, mx: 3), from: Self.controlPoint, to: to),
            at: now
        )
        #expect(session.nextDeadline == now)
        let (answers, _) = AnnounceHarness.advance(&session, to: now)
        #expect(answers.count == 1 && answers.first?.datagram.destination == Self.controlPoint)
        guard case .response(let answer) = try parsed(try #require(answers.first).datagram) else {
            Issue.record("not a response")
            return
        }
        #expect(answer.target == Self.type)
    }

    @Test func onlySearchesFromTheLinkAreAnsweredAndTheRestCountedByReason() throws {
        var session = session()
        let now = MonotonicInstant.zero + .seconds(2)
        _ = AnnounceHarness.advance(&session, to: now)
        let query = search("ssdp:all", mx: 1)
        // From off the interface's networks: an amplifier's victim, perhaps. Dropped.
        let far = SocketAddress(IPAddress("198.19.9.9")!, port: 40_000)
        session.handleDatagram(linkDatagram(query, from: far, to: Self.group.ip), at: now)
        // An IPv6 link-local source is on the link.
        let linkLocal = SocketAddress(IPAddress("fe80::1")!, port: 40_000)
        session.handleDatagram(linkDatagram(query, from: linkLocal, to: Self.group.ip), at: now)
        // Another device's NOTIFY, a search on another interface, garbage, and a line over the limit.
        let notify = SSDPMessage.notify(Self.advertisements[0], .alive).encoded(for: .inet)
        session.handleDatagram(linkDatagram(notify, from: Self.controlPoint), at: now)
        session.handleDatagram(linkDatagram(query, from: Self.controlPoint, interface: 9), at: now)
        session.handleDatagram(linkDatagram(Array("hello".utf8), from: Self.controlPoint), at: now)
        let long = Array("M-SEARCH * HTTP/1.1\r\nST: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 9_000)
        session.handleDatagram(
            linkDatagram(long + Array("\r\n\r\n".utf8), from: Self.controlPoint),
            at: now
        )
        let (answers, _) = AnnounceHarness.advance(&session, to: now + .seconds(2))
        #expect(answers.count == 3 && answers.allSatisfy { $0.datagram.destination == linkLocal })
        let counters = session.counters
        #expect(counters.offLink == 1 && session.offLink == 1)
        #expect(counters.ignored == 2 && counters.malformed == 1 && counters.oversized == 1 && session.malformed == 2)
        #expect(counters.searchesAnswered == 1)
        #expect(counters.description == "1 searches answered, 1 malformed, 1 oversized, 1 off link, 2 other messages")
    }

    @Test func stoppingQueuesTheByebyesAndEndsIt() throws {
        var session = session()
        let now = MonotonicInstant.zero + .seconds(2)
        _ = AnnounceHarness.advance(&session, to: now)
        session.handleDatagram(
            linkDatagram(search("ssdp:all", mx: 3), from: Self.controlPoint, to: Self.group.ip),
            at: now
        )
        session.stop(at: now)
        let (sent, _) = AnnounceHarness.drain(&session, at: now)
        #expect(sent.count == 3 && sent.allSatisfy { $0.destination == Self.group })
        for datagram in sent {
            guard case .notify(let advertisement, .byebye) = try parsed(datagram) else {
                Issue.record("not a byebye")
                continue
            }
            #expect(advertisement.location == nil)
        }
        #expect(session.isFinished && session.nextDeadline == nil, "the waiting answer is dropped")
        session.stop(at: now)
        #expect(AnnounceHarness.drain(&session, at: now).sent.isEmpty, "said once")
    }

    @Test func aFloodOfSearchesKeepsTheAnswerQueueBounded() throws {
        var session = session()
        let start = MonotonicInstant.zero + .seconds(2)
        _ = AnnounceHarness.advance(&session, to: start)
        let query = search("upnp:rootdevice", mx: 5)
        for _ in 0..<3 {
            session.handleDatagram(
                linkDatagram(query, from: Self.controlPoint, to: Self.group.ip),
                at: start
            )
        }
        for port in 0..<1_000 {
            let forged = SocketAddress(IPAddress("198.18.3.7")!, port: UInt16(10_000 + port))
            session.handleDatagram(linkDatagram(query, from: forged, to: Self.group.ip), at: start)
            #expect(try #require(session.responders[1]).pendingAnswers <= SSDPResponder.maximumPending)
        }
        let (answers, _) = AnnounceHarness.advance(&session, to: start + .seconds(5))
        #expect(answers.count == SSDPResponder.maximumPending)
        #expect(answers.filter { $0.datagram.destination == Self.controlPoint }.count == 1)
        #expect(session.counters.searchesDropped == 1_000 - (SSDPResponder.maximumPending - 1))
        #expect(session.counters.searchesAnswered == SSDPResponder.maximumPending)
    }
}
