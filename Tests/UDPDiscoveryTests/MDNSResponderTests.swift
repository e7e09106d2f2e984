import Testing
import UDP
import UDPDNS

@testable import UDPDiscovery

@Suite struct MDNSResponderTests {
    let ms: UInt64 = 1_000_000
    let peer = SocketAddress.v4(.init(ip: IPv4Address(198, 18, 3, 9), port: 5353))
    var service: MDNSService {
        MDNSService(
            instance: "Web Server",
            type: DNSName("_http._tcp.local")!,
            port: 8080,
            txt: [Array("path=/".utf8)],
            host: DNSName("box.local")!,
            addresses: [.v4(IPv4Address(198, 18, 3, 2))]
        )
    }

    /// Runs the responder's clock from `start` to `end`, collecting what it sends and says.
    func run(
        _ responder: inout MDNSResponder,
        from start: UInt64,
        to end: UInt64
    ) -> ([MDNSResponder.Outgoing], [MDNSResponder.Event]) {
        var messages: [MDNSResponder.Outgoing] = []
        var events: [MDNSResponder.Event] = []
        var now = start
        while let wake = responder.nextWake, wake <= end {
            now = max(now, wake)
            let (sent, said) = responder.poll(now: now)
            messages += sent
            events += said
        }
        return (messages, events)
    }

    @Test func itProbesThreeTimesThenAnnouncesTwice() throws {
        var responder = MDNSResponder(service: service, now: 0)
        let (messages, events) = run(&responder, from: 0, to: 3_000 * ms)
        let probes = messages.filter { !$0.message.isResponse }
        #expect(probes.count == 3)
        #expect(probes[0].message.questions.map(\.name) == [try service.instanceName, service.host])
        #expect(
            probes[0].message.authorities.contains { $0.type == .srv && $0.rawClass == 1 },
            "no flush bit in a probe"
        )
        let announcements = messages.filter(\.message.isResponse)
        #expect(announcements.count == 2)
        #expect(announcements[0].message.answers.count == 5, "two PTRs, SRV, TXT, A")
        #expect(events == [.announced(service)])
        #expect(responder.isAnnounced && responder.nextWake == nil)
    }

    @Test func aConflictWhileProbingRenamesTheInstance() throws {
        var responder = MDNSResponder(service: service, now: 0)
        _ = run(&responder, from: 0, to: 300 * ms)
        let theirs = DNSRecord(
            name: try service.instanceName,
            rawClass: 0x8001,
            ttl: 120,
            data: .srv(priority: 0, weight: 0, port: 9999, target: DNSName("other.local")!)
        )
        var response = DNSMessage(answers: [theirs])
        response.isResponse = true
        let (_, events) = responder.receive(response, from: peer, at: 310 * ms)
        let renamed = DNSName("Web Server (2)._http._tcp.local")!
        #expect(events == [.conflict(from: try service.instanceName, to: renamed)])
        let (messages, _) = run(&responder, from: 310 * ms, to: 5_000 * ms)
        #expect(messages.filter(\.message.isResponse).first?.message.answers.contains { $0.name == renamed } == true)
        #expect(MDNSResponder.nextInstanceName("Web Server (2)") == "Web Server (3)")
        #expect(MDNSResponder.nextInstanceName("A (b)") == "A (b) (2)")
        #expect(MDNSResponder.nextHostLabel("box-2") == "box-3")
    }

    @Test func fifteenConflictsInTenSecondsSlowProbingToOnceInFiveSeconds() throws {
        var responder = MDNSResponder(service: service, now: 0)
        var now: UInt64 = 0
        for conflict in 1...15 {
            now = try #require(responder.nextWake)
            _ = responder.poll(now: now)  // a probe goes out
            let theirs = DNSRecord(
                name: try responder.service.instanceName,
                rawClass: 0x8001,
                ttl: 120,
                data: .srv(priority: 0, weight: 0, port: 9999, target: DNSName("other.local")!)
            )
            var response = DNSMessage(answers: [theirs])
            response.isResponse = true
            #expect(responder.receive(response, from: peer, at: now + ms).events.count == 1)
            let wait = try #require(responder.nextWake) - (now + ms)
            #expect(conflict < 15 ? wait == 250 * ms : wait == 5_000 * ms, "conflict \(conflict): \(wait / ms) ms")
        }
    }

    @Test func aNewAddressIsAnnouncedAndAnOldOneSaysGoodbye() throws {
        var responder = MDNSResponder(service: service, now: 0)
        _ = run(&responder, from: 0, to: 3_000 * ms)
        let moved: [IPAddress] = [.v4(IPv4Address(198, 18, 3, 7))]
        #expect(responder.update(addresses: service.addresses, now: 4_000 * ms).isEmpty, "no change, nothing sent")
        let goodbye = try #require(responder.update(addresses: moved, now: 4_000 * ms).first)
        #expect(goodbye.message.answers.map(\.data) == [.a(IPv4Address(198, 18, 3, 2))])
        #expect(goodbye.message.answers.allSatisfy { $0.ttl == 0 })
        let (announcements, events) = run(&responder, from: 4_000 * ms, to: 7_000 * ms)
        #expect(announcements.count == 2)
        #expect(announcements.first?.message.answers.contains { $0.data == .a(IPv4Address(198, 18, 3, 7)) } == true)
        #expect(events.count == 1)
    }

    @Test func itAnswersQueriesLeavingOutWhatTheyKnow() throws {
        var responder = MDNSResponder(service: service, now: 0)
        _ = run(&responder, from: 0, to: 3_000 * ms)
        // SRV only this host can give: answered at once, once a second at most.
        let srvQuery = DNSMessage(questions: [DNSQuestion(name: try service.instanceName, type: .srv)])
        let (now, _) = responder.receive(srvQuery, from: peer, at: 4_000 * ms)
        #expect(now.first?.message.answers.map(\.type) == [.srv])
        // Asked again half a second later: held back until the second has passed, then sent.
        #expect(responder.receive(srvQuery, from: peer, at: 4_500 * ms).messages.isEmpty, "sent 0.5 s ago")
        #expect(responder.nextWake == 5_000 * ms)
        #expect(responder.poll(now: 5_000 * ms).messages.first?.message.answers.map(\.type) == [.srv])
        // The shared PTR: held 20-120 ms, then sent with SRV, TXT and A as additionals.
        let ptrQuery = DNSMessage(questions: [DNSQuestion(name: service.type, type: .ptr)])
        #expect(responder.receive(ptrQuery, from: peer, at: 6_000 * ms).messages.isEmpty)
        let (held, _) = responder.poll(now: 6_200 * ms)
        #expect(held.first?.message.answers.map(\.type) == [.ptr])
        #expect(Set(held.first?.message.additionals.map(\.type) ?? []) == [.srv, .txt, .a])
        // Known answers with half their TTL left are not repeated.
        var knowing = ptrQuery
        knowing.answers = [DNSRecord(name: service.type, ttl: 4000, data: .ptr(try service.instanceName))]
        #expect(responder.receive(knowing, from: peer, at: 9_000 * ms).messages.isEmpty)
        #expect(responder.poll(now: 9_200 * ms).messages.isEmpty)
    }

    @Test func aQueryJustAfterTheAnnouncementIsAnsweredOnceTheSecondHasPassed() throws {
        // A browser that started listening just after the announcement has not seen it: held back, not dropped.
        var responder = MDNSResponder(service: service, now: 0)
        _ = run(&responder, from: 0, to: 2_000 * ms)
        let meta = DNSMessage(questions: [DNSQuestion(name: DNSSDBrowser.allTypes, type: .ptr)])
        let last = 2_000 * ms  // the second announcement went out by then: probes end by 1 s, one second between
        #expect(responder.receive(meta, from: peer, at: last + 100 * ms).messages.isEmpty)
        let (sent, _) = run(&responder, from: last + 100 * ms, to: last + 2_000 * ms)
        #expect(sent.count == 1)
        #expect(sent.first?.message.answers.map(\.name) == [DNSSDBrowser.allTypes])
    }

    @Test func theUnicastResponseBitGetsAUnicastAnswerOnlyWhenTheLinkHeardItLately() throws {
        var responder = MDNSResponder(service: service, now: 0)
        _ = run(&responder, from: 0, to: 3_000 * ms)
        // SRV (TTL 120 s) was announced by 2 s: within a quarter of its TTL, a QU question gets it by unicast.
        let qu = DNSMessage(questions: [DNSQuestion(name: try service.instanceName, type: .srv, rawClass: 0x8001)])
        let (soon, _) = responder.receive(qu, from: peer, at: 10_000 * ms)
        #expect(soon.map(\.destination) == [.unicast(peer)])
        #expect(soon.first?.message.answers.map(\.type) == [.srv] && soon.first?.message.isResponse == true)
        // Thirty-one seconds later the link's caches are due a refresh: the answer is multicast.
        let (late, _) = responder.receive(qu, from: peer, at: 33_000 * ms)
        #expect(late.map(\.destination) == [.multicast])
    }

    @Test func aOneShotClientGetsAUnicastReplyWithItsID() throws {
        var responder = MDNSResponder(service: service, now: 0)
        _ = run(&responder, from: 0, to: 3_000 * ms)
        let client = SocketAddress.v4(.init(ip: IPv4Address(198, 18, 3, 9), port: 40_000))
        let query = DNSMessage(id: 77, questions: [DNSQuestion(name: service.host, type: .a)])
        let (replies, _) = responder.receive(query, from: client, at: 4_000 * ms)
        #expect(replies.first?.destination == .unicast(client))
        #expect(replies.first?.message.id == 77 && replies.first?.message.answers.first?.ttl == 10)
        #expect(replies.first?.message.answers.first?.rawClass == 1)
    }

    /// Its own announcement, looped back by the kernel, is no conflict, even with no TXT strings (one empty
    /// string on the wire): a responder that took its echo for another's would defend against itself for ever.
    @Test func itsOwnEchoIsNoConflict() throws {
        var bare = service
        bare.txt = []
        var responder = MDNSResponder(service: bare, now: 0)
        let (messages, _) = run(&responder, from: 0, to: 3_000 * ms)
        let announcement = try #require(messages.first(where: \.message.isResponse)?.message)
        let echo = try DNSMessage(decoding: try announcement.encoded())
        let (replies, events) = responder.receive(echo, from: peer, at: 3_100 * ms)
        #expect(replies.isEmpty && events.isEmpty)
    }

    @Test func stoppingSaysGoodbye() throws {
        var responder = MDNSResponder(service: service, now: 0)
        _ = run(&responder, from: 0, to: 3_000 * ms)
        let goodbye = responder.stop()
        #expect(goodbye.first?.message.answers.allSatisfy { $0.ttl == 0 } == true)
        #expect(goodbye.first?.message.answers.count == 5)
        #expect(responder.nextWake == nil)
    }

    @Test func theLowerOfTwoSimultaneousProposalsBacksOff() {
        let a = [DNSRecord(name: .root, ttl: 1, data: .a(IPv4Address(198, 18, 3, 1)))]
        let b = [DNSRecord(name: .root, ttl: 1, data: .a(IPv4Address(198, 18, 3, 2)))]
        #expect(
            MDNSResponder.compare(a, b) == -1 && MDNSResponder.compare(b, a) == 1 && MDNSResponder.compare(a, a) == 0
        )
        #expect(MDNSResponder.compare(a, a + b) == -1, "a longer list wins over its prefix")
    }
}
