import Testing
import UDP
import UDPPatterns

@testable import UDPDiscovery

// The SSDP machine behind `udp discover --ssdp`, on a fake clock: the search schedule and its MX, what it
// parses, drops and counts, and its bounds.
@Suite struct SSDPSearchSessionTests {
    let device = SocketAddress(.v4(IPv4Address(198, 18, 0, 2)), port: 49_152)

    func session(
        target: String = "ssdp:all",
        maximumWait: Int = 1,
        interfaces: [UInt32] = [1],
        capacity: Int = SSDPBrowser.defaultCapacity
    ) -> SSDPSearchSession {
        SSDPSearchSession(
            family: .inet,
            target: target,
            maximumWait: maximumWait,
            interfaces: interfaces,
            startingAt: .zero,
            firstDelay: .milliseconds(50),
            capacity: capacity
        )
    }

    func advertisement(_ usn: String, maximumAge: Int = 1_800) -> SSDPAdvertisement {
        SSDPAdvertisement(
            uniqueServiceName: usn,
            target: "upnp:rootdevice",
            location: "http://198.18.0.2:8200/rootDesc.xml",
            server: "Linux UPnP/1.1 MiniDLNA/1.3",
            maximumAge: maximumAge
        )
    }

    func at(_ milliseconds: Int64) -> MonotonicInstant { .zero + .milliseconds(milliseconds) }

    @Test func searchesGoOutOnTheDoublingScheduleWithTheirMX() throws {
        var search = session(target: "upnp:rootdevice", maximumWait: 3, interfaces: [1, 2])
        let run = BrowseHarness.play(&search, to: .zero + .seconds(16))
        // 50 ms, then 1, 2, 4, 8 s later: five searches, one per interface each time.
        let times = stride(from: 0, to: run.sent.count, by: 2).map { run.sent[$0].at }
        #expect(times == [at(50), at(1_050), at(3_050), at(7_050), at(15_050)])
        #expect(run.sent.map(\.datagram.interfaceIndex) == Array(repeating: [1, 2], count: 5).flatMap { $0 })
        for (_, datagram) in run.sent {
            #expect(datagram.socket == SSDPSearchSession.searchSocket)
            #expect(datagram.destination == SocketAddress(SSDPSearchSession.groupV4, port: 1900))
            guard case .search(let sent) = try SSDPMessage(parsing: datagram.payload) else {
                Issue.record("not an M-SEARCH")
                continue
            }
            #expect(sent.maximumWait == 3 && sent.target == "upnp:rootdevice")
            #expect(sent.host == "239.255.255.250:1900")
        }
        #expect(search.counters.searchesSent == 10)
    }

    @Test func theFirstDelayIsDrawnFromTheGenerator() {
        var generator = SeededGenerator(seed: 1_900)
        let search = SSDPSearchSession(
            family: .inet6,
            target: "ssdp:all",
            interfaces: [1],
            startingAt: .zero,
            using: &generator
        )
        #expect(search.nextDeadline.map { (at(20)...at(120)).contains($0) } == true)
        #expect(search.search.host == SSDPMessage.groupHost(.inet6))
    }

    @Test func aSearchLostToALinkErrorIsNotCounted() {
        var search = session()
        let run = BrowseHarness.play(&search, to: at(50), failSends: true)
        #expect(run.sent.count == 1 && search.counters.searchesSent == 0)
    }

    @Test func responsesAndNotificationsAreParsedAndCountedAndTheRestDropped() throws {
        var search = session()
        let root = advertisement("uuid:1::upnp:rootdevice")
        let other = advertisement("uuid:2::upnp:rootdevice")
        let longLine = Array("NOTIFY * HTTP/1.1\r\nLOCATION: \(String(repeating: "a", count: 3_000))\r\n\r\n".utf8)
        let inputs: [(at: MonotonicInstant, datagram: InboundDatagram)] = [
            (at(100), linkDatagram(SSDPMessage.response(root).encoded, from: device)),
            (
                at(200),
                linkDatagram(SSDPMessage.notify(other, .alive).encoded, from: device, socket: 1)
            ),
            (at(300), linkDatagram(SSDPMessage.search(SSDPSearch()).encoded, from: device, socket: 1)),
            (at(400), linkDatagram(Array("hello".utf8), from: device)),
            (at(500), linkDatagram(longLine, from: device, socket: 1)),
            (at(600), linkDatagram(SSDPMessage.response(other).encoded, from: device, interface: 7)),
            (
                at(700),
                linkDatagram(SSDPMessage.notify(other, .byebye).encoded, from: device, socket: 1)
            ),
        ]
        let run = BrowseHarness.play(&search, to: at(1_000), inputs: inputs)
        let events = run.events.map(\.event.change)
        #expect(events == [.appeared(root), .appeared(other), .removed(other)])
        #expect(run.events.allSatisfy { $0.event.interfaceIndex == 1 && $0.event.family == .inet })
        let counters = search.counters
        #expect(counters.responses == 2 && counters.notifications == 2 && counters.searches == 1)
        #expect(counters.malformed == 1 && counters.oversized == 1 && counters.otherInterface == 1)
        #expect(
            counters.description
                == "2 responses, 2 notifications, 1 searches heard, 1 malformed, 1 oversized, 1 other interface, "
                + "1 searches sent"
        )
    }

    @Test func anAdvertisementExpiresWhenItsMaxAgeRunsOut() {
        var search = session()
        let short = advertisement("uuid:3::upnp:rootdevice", maximumAge: 30)
        let run = BrowseHarness.play(
            &search,
            to: .zero + .seconds(40),
            inputs: [(at(100), linkDatagram(SSDPMessage.response(short).encoded, from: device))]
        )
        #expect(run.events.map(\.event.change) == [.appeared(short), .removed(short)])
        #expect(run.events.last?.at == at(30_100))
    }

    @Test func theTableIsBoundedAndWhatItPushedOutIsCounted() {
        var search = session(capacity: 8)
        let inputs = (0..<40).map { index in
            (
                at(Int64(100 + index)),
                linkDatagram(SSDPMessage.response(advertisement("uuid:f\(index)")).encoded, from: device)
            )
        }
        _ = BrowseHarness.play(&search, to: at(1_000), inputs: inputs)
        #expect(search.browsers[1]!.advertisements.count <= 8)
        #expect(search.counters.evicted == 40 - search.browsers[1]!.advertisements.count)
        #expect(search.counters.responses == 40)
    }

    @Test func aTargetOtherThanAllKeepsOnlyItsOwn() {
        var search = session(target: "urn:schemas-upnp-org:device:MediaServer:1")
        let run = BrowseHarness.play(
            &search,
            to: at(1_000),
            inputs: [
                (at(100), linkDatagram(SSDPMessage.response(advertisement("uuid:4")).encoded, from: device))
            ]
        )
        #expect(run.events.isEmpty && search.counters.responses == 1)
    }
}

// The browser keeps its next expiry as entries change, so that a driver can read it after every datagram.
@Suite struct SSDPBrowserNextExpiryTests {
    func advertisement(_ usn: String, maximumAge: Int, location: String = "http://198.18.0.2/d.xml") -> SSDPMessage {
        .response(
            SSDPAdvertisement(
                uniqueServiceName: usn,
                target: "upnp:rootdevice",
                location: location,
                maximumAge: maximumAge
            )
        )
    }

    @Test func theNextExpiryFollowsRefreshesRemovalsAndEvictions() {
        var browser = SSDPBrowser(capacity: 4)
        _ = browser.receive(advertisement("uuid:a", maximumAge: 10), at: .zero)
        _ = browser.receive(advertisement("uuid:b", maximumAge: 20), at: .zero)
        #expect(browser.nextExpiry == .zero + .seconds(10))
        // The first to run out is heard again: the next is the other one.
        _ = browser.receive(advertisement("uuid:a", maximumAge: 30), at: .zero + .seconds(5))
        #expect(browser.nextExpiry == .zero + .seconds(20))
        // A new location: removed and added again, with its own max-age.
        _ = browser.receive(advertisement("uuid:b", maximumAge: 50, location: "http://198.18.0.3/"), at: .zero)
        #expect(browser.nextExpiry == .zero + .seconds(35))
        // A byebye of the first to run out.
        _ = browser.receive(
            .notify(SSDPAdvertisement(uniqueServiceName: "uuid:a", target: "upnp:rootdevice"), .byebye),
            at: .zero + .seconds(6)
        )
        #expect(browser.nextExpiry == .zero + .seconds(50))
        // Evictions from a full table.
        for index in 0..<8 { _ = browser.receive(advertisement("uuid:f\(index)", maximumAge: 100 + index), at: .zero) }
        let remaining = browser.advertisements.count
        #expect(remaining <= 4 && browser.nextExpiry != nil)
        #expect(browser.expire(now: .zero + .seconds(1_000)).count == remaining)
        #expect(browser.nextExpiry == nil && browser.bytes == 0)
    }
}
