import Testing
import UDP
import UDPDNS

@testable import UDPDiscovery

@Suite struct MDNSResponderTests {
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
        from start: MonotonicInstant,
        to end: MonotonicInstant
    ) -> ([MDNSResponder.Outgoing], [MDNSResponder.Event]) {
        var messages: [MDNSResponder.Outgoing] = []
        var events: [MDNSResponder.Event] = []
        var now = start
        while let wake = responder.nextDeadline, wake <= end {
            now = max(now, wake)
            let (sent, said) = responder.poll(at: now)
            messages += sent
            events += said
        }
        return (messages, events)
    }

    @Test func itProbesThreeTimesThenAnnouncesTwice() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        let (messages, events) = run(&responder, from: .zero, to: responderTime(3_000))
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
        #expect(responder.isAnnounced && responder.nextDeadline == nil)
    }

    @Test func aConflictWhileProbingRenamesTheInstance() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        _ = run(&responder, from: .zero, to: responderTime(300))
        let theirs = DNSRecord(
            name: try service.instanceName,
            rawClass: 0x8001,
            ttl: 120,
            data: .srv(priority: 0, weight: 0, port: 9999, target: DNSName("other.local")!)
        )
        var response = DNSMessage(answers: [theirs])
        response.isResponse = true
        let (_, events) = responder.take(response, from: peer, at: responderTime(310))
        let renamed = DNSName("Web Server (2)._http._tcp.local")!
        #expect(events == [.conflict(from: try service.instanceName, to: renamed)])
        let (messages, _) = run(&responder, from: responderTime(310), to: responderTime(5_000))
        #expect(messages.filter(\.message.isResponse).first?.message.answers.contains { $0.name == renamed } == true)
        #expect(MDNSResponder.nextInstanceName("Web Server (2)") == "Web Server (3)")
        #expect(MDNSResponder.nextInstanceName("A (b)") == "A (b) (2)")
        #expect(MDNSResponder.nextHostLabel("box-2") == "box-3")
    }

    @Test func fifteenConflictsInTenSecondsSlowProbingToOnceInFiveSeconds() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        var now = MonotonicInstant.zero
        for conflict in 1...15 {
            now = try #require(responder.nextDeadline)
            _ = responder.poll(at: now)  // a probe goes out
            let theirs = DNSRecord(
                name: try responder.service.instanceName,
                rawClass: 0x8001,
                ttl: 120,
                data: .srv(priority: 0, weight: 0, port: 9999, target: DNSName("other.local")!)
            )
            var response = DNSMessage(answers: [theirs])
            response.isResponse = true
            #expect(responder.take(response, from: peer, at: now + .milliseconds(1)).events.count == 1)
            let wait = (now + .milliseconds(1)).duration(to: try #require(responder.nextDeadline))
            #expect(conflict < 15 ? wait == .milliseconds(250) : wait == .seconds(5), "conflict \(conflict): \(wait)")
        }
    }

    @Test func aNewAddressIsAnnouncedAndAnOldOneSaysGoodbye() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        _ = run(&responder, from: .zero, to: responderTime(3_000))
        let moved: [IPAddress] = [.v4(IPv4Address(198, 18, 3, 7))]
        #expect(
            responder.updated(addresses: service.addresses, at: responderTime(4_000)).isEmpty,
            "no change, nothing sent"
        )
        let goodbye = try #require(responder.updated(addresses: moved, at: responderTime(4_000)).first)
        #expect(goodbye.message.answers.map(\.data) == [.a(IPv4Address(198, 18, 3, 2))])
        #expect(goodbye.message.answers.allSatisfy { $0.ttl == 0 })
        let (announcements, events) = run(&responder, from: responderTime(4_000), to: responderTime(7_000))
        #expect(announcements.count == 2)
        #expect(announcements.first?.message.answers.contains { $0.data == .a(IPv4Address(198, 18, 3, 7)) } == true)
        #expect(events.count == 1)
    }

    @Test func itAnswersQueriesLeavingOutWhatTheyKnow() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        _ = run(&responder, from: .zero, to: responderTime(3_000))
        // SRV only this host can give: answered at once, once a second at most.
        let srvQuery = DNSMessage(questions: [DNSQuestion(name: try service.instanceName, type: .srv)])
        let (now, _) = responder.take(srvQuery, from: peer, at: responderTime(4_000))
        #expect(now.first?.message.answers.map(\.type) == [.srv])
        // Asked again half a second later: held back until the second has passed, then sent.
        #expect(responder.take(srvQuery, from: peer, at: responderTime(4_500)).messages.isEmpty, "sent 0.5 s ago")
        #expect(responder.nextDeadline == responderTime(5_000))
        #expect(responder.poll(at: responderTime(5_000)).messages.first?.message.answers.map(\.type) == [.srv])
        // The shared PTR: held 20-120 ms, then sent with SRV, TXT and A as additionals.
        let ptrQuery = DNSMessage(questions: [DNSQuestion(name: service.type, type: .ptr)])
        #expect(responder.take(ptrQuery, from: peer, at: responderTime(6_000)).messages.isEmpty)
        let (held, _) = responder.poll(at: responderTime(6_200))
        #expect(held.first?.message.answers.map(\.type) == [.ptr])
        #expect(Set(held.first?.message.additionals.map(\.type) ?? []) == [.srv, .txt, .a])
        // Known answers with half their TTL left are not repeated.
        var knowing = ptrQuery
        knowing.answers = [DNSRecord(name: service.type, ttl: 4000, data: .ptr(try service.instanceName))]
        #expect(responder.take(knowing, from: peer, at: responderTime(9_000)).messages.isEmpty)
        #expect(responder.poll(at: responderTime(9_200)).messages.isEmpty)
    }

    @Test func aQueryJustAfterTheAnnouncementIsAnsweredOnceTheSecondHasPassed() throws {
        // A browser that started listening just after the announcement has not seen it: held back, not dropped.
        var responder = MDNSResponder(service: service, at: .zero)
        _ = run(&responder, from: .zero, to: responderTime(2_000))
        let meta = DNSMessage(questions: [DNSQuestion(name: DNSSDBrowser.allTypes, type: .ptr)])
        // The second announcement went out by then: probes end by 1 s, one second between.
        let last = responderTime(2_000)
        #expect(responder.take(meta, from: peer, at: last + .milliseconds(100)).messages.isEmpty)
        let (sent, _) = run(&responder, from: last + .milliseconds(100), to: last + .seconds(2))
        #expect(sent.count == 1)
        #expect(sent.first?.message.answers.map(\.name) == [DNSSDBrowser.allTypes])
    }

    @Test func theUnicastResponseBitGetsAUnicastAnswerOnlyWhenTheLinkHeardItLately() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        _ = run(&responder, from: .zero, to: responderTime(3_000))
        // SRV (TTL 120 s) was announced by 2 s: within a quarter of its TTL, a QU question gets it by unicast.
        let qu = DNSMessage(questions: [DNSQuestion(name: try service.instanceName, type: .srv, rawClass: 0x8001)])
        let (soon, _) = responder.take(qu, from: peer, at: responderTime(10_000))
        #expect(soon.map(\.destination) == [.unicast(peer)])
        #expect(soon.first?.message.answers.map(\.type) == [.srv] && soon.first?.message.isResponse == true)
        // Thirty-one seconds later the link's caches are due a refresh: the answer is multicast.
        let (late, _) = responder.take(qu, from: peer, at: responderTime(33_000))
        #expect(late.map(\.destination) == [.multicast])
    }

    @Test func aOneShotClientGetsAUnicastReplyWithItsID() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        _ = run(&responder, from: .zero, to: responderTime(3_000))
        let client = SocketAddress.v4(.init(ip: IPv4Address(198, 18, 3, 9), port: 40_000))
        let query = DNSMessage(id: 77, questions: [DNSQuestion(name: service.host, type: .a)])
        let (replies, _) = responder.take(query, from: client, at: responderTime(4_000))
        #expect(replies.first?.destination == .unicast(client))
        #expect(replies.first?.message.id == 77 && replies.first?.message.answers.first?.ttl == 10)
        #expect(replies.first?.message.answers.first?.rawClass == 1)
    }

    /// Its own announcement, looped back by the kernel, is no conflict, even with no TXT strings (one empty
    /// string on the wire): a responder that took its echo for another's would defend against itself for ever.
    @Test func itsOwnEchoIsNoConflict() throws {
        var bare = service
        bare.txt = []
        var responder = MDNSResponder(service: bare, at: .zero)
        let (messages, _) = run(&responder, from: .zero, to: responderTime(3_000))
        let announcement = try #require(messages.first(where: \.message.isResponse)?.message)
        let echo = try DNSMessage(decoding: try announcement.encoded())
        let (replies, events) = responder.take(echo, from: peer, at: responderTime(3_100))
        #expect(replies.isEmpty && events.isEmpty)
    }

    @Test func stoppingSaysGoodbye() throws {
        var responder = MDNSResponder(service: service, at: .zero)
        _ = run(&responder, from: .zero, to: responderTime(3_000))
        responder.stop(at: responderTime(3_000))
        let goodbye = responder.taken().messages
        #expect(goodbye.first?.message.answers.allSatisfy { $0.ttl == 0 } == true)
        #expect(goodbye.first?.message.answers.count == 5)
        #expect(responder.nextDeadline == nil)
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
