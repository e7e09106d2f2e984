import Testing
import UDP
import UDPPatterns

@testable import UDPDiscovery

@Suite struct SSDPResponderTests {
    static let millisecond = Duration.milliseconds(1)
    static let type = "urn:schemas-upnp-org:device:MediaServer:2"
    static let controlPoint = SocketAddress(IPAddress("198.18.3.1")!, port: 40_000)

    func responder(at now: MonotonicInstant = .zero) -> SSDPResponder {
        SSDPResponder(
            advertisements: SSDPResponder.advertisements(
                uuid: "1234",
                type: Self.type,
                location: "http://198.18.3.2/desc.xml",
                server: "Linux UPnP/1.1 test/1",
                maximumAge: 1800
            ),
            at: now,
            random: SeededGenerator(seed: 19)
        )
    }

    func search(_ target: String, mx: Int = 1) -> SSDPMessage { .search(SSDPSearch(target: target, maximumWait: mx)) }

    /// Polls every millisecond from `start` to `end`, collecting what goes out and when.
    func run(
        _ responder: inout SSDPResponder,
        from start: MonotonicInstant,
        to end: MonotonicInstant
    ) -> [(MonotonicInstant, SSDPResponder.Outgoing)] {
        var sent: [(MonotonicInstant, SSDPResponder.Outgoing)] = []
        var now = start
        while now <= end {
            if let wake = responder.nextDeadline, wake <= now { sent += responder.poll(at: now).map { (now, $0) } }
            now += Self.millisecond
        }
        return sent
    }

    @Test func aRootDeviceAdvertisesItselfItsUUIDAndItsType() {
        let advertised = responder().advertisements
        #expect(advertised.map(\.target) == ["upnp:rootdevice", "uuid:1234", Self.type])
        #expect(
            advertised.map(\.uniqueServiceName) == [
                "uuid:1234::upnp:rootdevice", "uuid:1234", "uuid:1234::\(Self.type)",
            ]
        )
        // Advertising the root device alone does not list it twice.
        let alone = SSDPResponder.advertisements(uuid: "1", type: "upnp:rootdevice", location: "http://x/", server: "s")
        #expect(alone.map(\.target) == ["upnp:rootdevice", "uuid:1"])
    }

    @Test func announcesThreeTimesThenBeforeHalfTheMaxAge() throws {
        var responder = responder()
        let sent = run(&responder, from: .zero, to: .zero + Duration.seconds(2))
        let times = Set(sent.map(\.0)).sorted()
        #expect(times.count == 3, "\(times)")
        #expect(times[0] <= .zero + Duration.milliseconds(100))
        #expect(
            times[0].duration(to: times[1]) == Duration.milliseconds(500)
                && times[1].duration(to: times[2]) == Duration.milliseconds(500)
        )
        #expect(sent.count == 9 && sent.allSatisfy { $0.1.destination == .multicast })
        let refresh = try #require(responder.nextDeadline)
        #expect(refresh >= times[2] + Duration.seconds(450) && refresh <= times[2] + Duration.seconds(900))
    }

    @Test func answersAMatchingSearchWithinMX() {
        var responder = responder()
        _ = run(&responder, from: .zero, to: .zero + Duration.milliseconds(1_100))
        responder.receive(
            search("ssdp:all", mx: 2),
            from: Self.controlPoint,
            multicast: true,
            at: .zero + Duration.seconds(2)
        )
        let answers = run(&responder, from: .zero + Duration.seconds(2), to: .zero + Duration.seconds(4))
        #expect(answers.count == 3)
        #expect(answers.allSatisfy { $0.0 < .zero + Duration.seconds(2) + Duration.milliseconds(1_750) })
        #expect(answers.allSatisfy { $0.1.destination == .unicast(Self.controlPoint) })
        #expect(responder.counters.searchesAnswered == 1)
    }

    @Test func anOlderVersionOfItsTypeIsAnsweredWithTheTargetAsked() throws {
        var responder = responder()
        let older = "urn:schemas-upnp-org:device:MediaServer:1"
        responder.receive(search(older), from: Self.controlPoint, multicast: false, at: .zero)
        // A unicast search is answered at once.
        let answers = responder.poll(at: .zero).filter { $0.destination != .multicast }
        #expect(answers.count == 1)
        guard case .response(let answer) = try #require(answers.first).message else {
            Issue.record("not a response")
            return
        }
        #expect(answer.target == older && answer.uniqueServiceName == "uuid:1234::\(Self.type)")
        // A newer version, another type, or a version that is not a number: no answer.
        for target in [
            "urn:schemas-upnp-org:device:MediaServer:3", "urn:schemas-upnp-org:device:Printer:1",
            "urn:schemas-upnp-org:device:MediaServer:x", "urn:schemas-upnp-org:device:MediaServer:0",
        ] {
            responder.receive(search(target), from: Self.controlPoint, multicast: false, at: .zero)
        }
        #expect(responder.poll(at: .zero).filter { $0.destination != .multicast }.isEmpty)
        #expect(responder.counters.searchesIgnored == 4)
    }

    @Test func aRepeatedSearchIsAnsweredOnceAndAFloodIsCapped() {
        var responder = responder()
        _ = run(&responder, from: .zero, to: .zero + Duration.milliseconds(1_100))
        let start = MonotonicInstant.zero + Duration.seconds(2)
        for _ in 0..<3 {
            responder.receive(search("upnp:rootdevice", mx: 5), from: Self.controlPoint, multicast: true, at: start)
        }
        for port in 0..<1_000 {
            let forged = SocketAddress(IPAddress("198.18.3.7")!, port: UInt16(10_000 + port))
            responder.receive(search("upnp:rootdevice", mx: 5), from: forged, multicast: true, at: start)
        }
        let answers = run(&responder, from: start, to: start + Duration.seconds(5))
        #expect(answers.count == SSDPResponder.maximumPending)
        #expect(answers.filter { $0.1.destination == .unicast(Self.controlPoint) }.count == 1)
        #expect(responder.counters.searchesDropped == 1_000 - (SSDPResponder.maximumPending - 1))
    }

    @Test func stoppingSaysByebyeAndNothingAfter() {
        var responder = responder()
        responder.receive(search("ssdp:all", mx: 3), from: Self.controlPoint, multicast: true, at: .zero)
        responder.stop(at: .zero)
        let goodbyes = responder.poll(at: .zero)
        #expect(goodbyes.count == 3)
        for goodbye in goodbyes {
            guard case .notify(let advertisement, .byebye) = goodbye.message else {
                Issue.record("not a byebye: \(goodbye)")
                continue
            }
            #expect(advertisement.location == nil && goodbye.destination == .multicast)
        }
        #expect(responder.nextDeadline == nil)
    }
}
