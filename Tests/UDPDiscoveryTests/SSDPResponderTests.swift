import Testing
import UDP

@testable import UDPDiscovery

@Suite struct SSDPResponderTests {
    static let millisecond: UInt64 = 1_000_000
    static let second: UInt64 = 1_000_000_000
    static let type = "urn:schemas-upnp-org:device:MediaServer:2"
    static let controlPoint = SocketAddress(IPAddress("198.18.3.1")!, port: 40_000)

    func responder(now: UInt64 = 0) -> SSDPResponder {
        SSDPResponder(
            advertisements: SSDPResponder.advertisements(
                uuid: "1234",
                type: Self.type,
                location: "http://198.18.3.2/desc.xml",
                server: "Linux UPnP/1.1 test/1",
                maximumAge: 1800
            ),
            now: now
        )
    }

    func search(_ target: String, mx: Int = 1) -> SSDPMessage { .search(SSDPSearch(target: target, maximumWait: mx)) }

    /// Polls every millisecond from `start` to `end`, collecting what goes out and when.
    func run(_ responder: inout SSDPResponder, from start: UInt64, to end: UInt64) -> [(UInt64, SSDPResponder.Outgoing)]
    {
        var sent: [(UInt64, SSDPResponder.Outgoing)] = []
        var now = start
        while now <= end {
            if let wake = responder.nextWake, wake <= now { sent += responder.poll(now: now).map { (now, $0) } }
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
        let sent = run(&responder, from: 0, to: 2 * Self.second)
        let times = Set(sent.map(\.0)).sorted()
        #expect(times.count == 3, "\(times)")
        #expect(times[0] <= 100 * Self.millisecond)
        #expect(times[1] - times[0] == 500 * Self.millisecond && times[2] - times[1] == 500 * Self.millisecond)
        #expect(sent.count == 9 && sent.allSatisfy { $0.1.destination == .multicast })
        let refresh = try #require(responder.nextWake)
        #expect(refresh >= times[2] + 450 * Self.second && refresh <= times[2] + 900 * Self.second)
    }

    @Test func answersAMatchingSearchWithinMX() {
        var responder = responder()
        _ = run(&responder, from: 0, to: 1_100 * Self.millisecond)
        responder.receive(search("ssdp:all", mx: 2), from: Self.controlPoint, multicast: true, at: 2 * Self.second)
        let answers = run(&responder, from: 2 * Self.second, to: 4 * Self.second)
        #expect(answers.count == 3)
        #expect(answers.allSatisfy { $0.0 < 2 * Self.second + 1_750 * Self.millisecond })
        #expect(answers.allSatisfy { $0.1.destination == .unicast(Self.controlPoint) })
        #expect(responder.counters.searchesAnswered == 1)
    }

    @Test func anOlderVersionOfItsTypeIsAnsweredWithTheTargetAsked() throws {
        var responder = responder()
        let older = "urn:schemas-upnp-org:device:MediaServer:1"
        responder.receive(search(older), from: Self.controlPoint, multicast: false, at: 0)
        // A unicast search is answered at once.
        let answers = responder.poll(now: 0).filter { $0.destination != .multicast }
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
            responder.receive(search(target), from: Self.controlPoint, multicast: false, at: 0)
        }
        #expect(responder.poll(now: 0).filter { $0.destination != .multicast }.isEmpty)
        #expect(responder.counters.searchesIgnored == 4)
    }

    @Test func aRepeatedSearchIsAnsweredOnceAndAFloodIsCapped() {
        var responder = responder()
        _ = run(&responder, from: 0, to: 1_100 * Self.millisecond)
        let start = 2 * Self.second
        for _ in 0..<3 {
            responder.receive(search("upnp:rootdevice", mx: 5), from: Self.controlPoint, multicast: true, at: start)
        }
        for port in 0..<1_000 {
            let forged = SocketAddress(IPAddress("198.18.3.7")!, port: UInt16(10_000 + port))
            responder.receive(search("upnp:rootdevice", mx: 5), from: forged, multicast: true, at: start)
        }
        let answers = run(&responder, from: start, to: start + 5 * Self.second)
        #expect(answers.count == SSDPResponder.maximumPending)
        #expect(answers.filter { $0.1.destination == .unicast(Self.controlPoint) }.count == 1)
        #expect(responder.counters.searchesDropped == 1_000 - (SSDPResponder.maximumPending - 1))
    }

    @Test func stoppingSaysByebyeAndNothingAfter() {
        var responder = responder()
        responder.receive(search("ssdp:all", mx: 3), from: Self.controlPoint, multicast: true, at: 0)
        let goodbyes = responder.stop()
        #expect(goodbyes.count == 3)
        for goodbye in goodbyes {
            guard case .notify(let advertisement, .byebye) = goodbye.message else {
                Issue.record("not a byebye: \(goodbye)")
                continue
            }
            #expect(advertisement.location == nil && goodbye.destination == .multicast)
        }
        #expect(responder.nextWake == nil)
    }
}
