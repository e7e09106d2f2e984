import Testing
import UDP
import UDPDNS
import UDPPatterns

@testable import UDPDiscovery

// The machine behind `udp discover`, on a fake clock: RFC 6762's query schedule, the follow-up spacing, the
// on-link checks, known-answer budgeting and the bounds, each counted by reason.
@Suite struct MDNSBrowseSessionTests {
    let type = DNSName("_http._tcp.local")!
    let peer = SocketAddress(.v4(IPv4Address(198, 18, 0, 2)), port: 5353)

    func session(
        types: [DNSName]? = nil,
        interfaces: [UInt32] = [1],
        maximumRecords: Int = 4_096,
        maximumTypes: Int = 1_024,
        maximumInstances: Int = 1_024
    ) -> MDNSBrowseSession {
        MDNSBrowseSession(
            family: .inet,
            types: types,
            interfaces: interfaces,
            startingAt: .zero,
            firstDelay: .milliseconds(20),
            maximumRecords: maximumRecords,
            maximumTypes: maximumTypes,
            maximumInstances: maximumInstances
        )
    }

    func instance(_ index: Int) -> DNSName { DNSName("Printer \(index)._http._tcp.local")! }

    func response(_ records: [DNSRecord]) -> [UInt8] {
        try! DNSMessage(flags: 0x8400, answers: records).encoded()
    }

    func at(_ milliseconds: Int64) -> MonotonicInstant { .zero + .milliseconds(milliseconds) }

    @Test func queriesGoOutAfterTheFirstDelayThenEverySecondDoublingUpToAnHour() {
        var browse = session()
        let run = BrowseHarness.play(&browse, to: at(20) + .seconds(4_095 + 3 * 3_600))
        let times = run.sent.map(\.at)
        #expect(times.first == at(20))
        let gaps = zip(times.dropFirst(), times).map { $1.duration(to: $0) }
        let doubling = (0...11).map { Duration.seconds(1 << $0) }
        #expect(gaps == doubling + [.seconds(3_600), .seconds(3_600), .seconds(3_600)])
        #expect(browse.counters.queriesSent == times.count)
    }

    @Test func theFirstDelayIsDrawnFromTheGeneratorWithinTwentyToOneHundredTwentyMilliseconds() {
        var generator = SeededGenerator(seed: 6_762)
        var delays: Set<MonotonicInstant> = []
        for _ in 0..<50 {
            let browse = MDNSBrowseSession(
                family: .inet6,
                types: nil,
                interfaces: [1],
                startingAt: .zero,
                using: &generator
            )
            #expect(browse.nextDeadline.map { (at(20)...at(120)).contains($0) } == true)
            delays.insert(browse.nextDeadline!)
        }
        #expect(delays.count > 10, "drawn, not fixed")
    }

    @Test func aQueryAsksTheMetaQueryOfEachInterfaceOnItsGroupWithoutTheUnicastBit() throws {
        var browse = session(interfaces: [1, 2])
        let run = BrowseHarness.play(&browse, to: at(20))
        #expect(run.sent.map(\.datagram.interfaceIndex) == [1, 2])
        for (_, datagram) in run.sent {
            #expect(datagram.destination == SocketAddress(MDNSBrowseSession.groupV4, port: 5353))
            let query = try DNSMessage(decoding: datagram.payload)
            #expect(query.questions.map(\.name) == [DNSSDBrowser.allTypes])
            #expect(query.questions.allSatisfy { $0.rawClass & 0x8000 == 0 })
        }
    }

    @Test func aQueryLostToALinkErrorIsNotCounted() {
        var browse = session(interfaces: [1, 2])
        let run = BrowseHarness.play(&browse, to: at(20), failSends: true)
        #expect(run.sent.count == 2 && browse.counters.queriesSent == 0)
    }

    @Test func anInstanceAppearsIsResolvedAndExpiresAsEvents() throws {
        var browse = session(types: [type])
        let name = instance(1)
        let host = DNSName("printer.local")!
        let records = [
            DNSRecord(name: type, ttl: 4_500, data: .ptr(name)),
            DNSRecord(name: name, ttl: 120, data: .srv(priority: 0, weight: 0, port: 631, target: host)),
            DNSRecord(name: name, ttl: 4_500, data: .txt([Array("rp=ipp".utf8)])),
            DNSRecord(name: host, ttl: 120, data: .a(IPv4Address(198, 18, 0, 2))),
        ]
        let goodbye = DNSRecord(name: type, ttl: 0, data: .ptr(name))
        let run = BrowseHarness.play(
            &browse,
            to: .zero + .seconds(10),
            inputs: [
                (at(500), linkDatagram(response(records), from: peer)),
                (at(5_000), linkDatagram(response([goodbye]), from: peer)),
            ]
        )
        let changes = run.events.map(\.event.change)
        #expect(changes.count == 3)
        guard case .appeared(let appeared) = changes.first, case .resolved(let resolved) = changes.dropFirst().first,
            case .removed(let removed) = changes.last
        else { throw CancellationError() }
        #expect(appeared.name == name && resolved.port == 631 && resolved.addresses.count == 1)
        #expect(removed.name == name)
        #expect(run.events.map(\.at) == [at(500), at(500), at(6_000)], "a goodbye ends the record a second later")
        #expect(run.events.allSatisfy { $0.event.interfaceIndex == 1 && $0.event.family == .inet })
        #expect(browse.counters.responses == 2)
    }

    @Test func followUpsAreSpacedAHundredMillisecondsApartUnderAFloodOfForgedAnswers() {
        var browse = session(types: [type])
        // A new instance every millisecond for two seconds: each one wants a follow-up query.
        let flood = (0..<2_000).map { index in
            (
                at(Int64(21 + index)),
                linkDatagram(
                    response([DNSRecord(name: type, ttl: 4_500, data: .ptr(instance(index)))]),
                    from: peer
                )
            )
        }
        let run = BrowseHarness.play(&browse, to: at(2_021), inputs: flood)
        let times = run.sent.map(\.at)
        let gaps = zip(times.dropFirst(), times).map { $1.duration(to: $0) }
        #expect(gaps.allSatisfy { $0 >= MDNSBrowseSession.followUpSpacing })
        #expect((19...21).contains(times.count), "about one query each 100 ms, not one per answer")
    }

    @Test func responsesFromOffTheLinkAreDroppedAndCountedByReason() {
        var browse = session(types: [type])
        let answer = response([DNSRecord(name: type, ttl: 4_500, data: .ptr(instance(1)))])
        let query = try! DNSMessage(questions: [DNSQuestion(name: type, type: .ptr)]).encoded()
        let inputs = [
            linkDatagram(answer, from: SocketAddress(peer.ip, port: 5354)),
            linkDatagram(answer, from: peer, hopLimit: 254),
            linkDatagram(answer, from: peer, hopLimit: 1),
            linkDatagram(answer, from: peer, interface: 9),
            linkDatagram(answer, from: peer, interface: nil),
            linkDatagram(query, from: peer),
            linkDatagram([0x12, 0x34, 0x80], from: peer),
        ].map { (at(1), $0) }
        let run = BrowseHarness.play(&browse, to: at(10), inputs: inputs)
        let counters = browse.counters
        #expect(counters.offLinkByReason == [.sourcePort: 1, .hopLimit: 2, .unknownInterface: 2])
        #expect(counters.offLink == 5 && counters.queries == 1 && counters.malformed == 1)
        #expect(counters.responses == 0 && run.events.isEmpty && browse.caches[1]!.entries.isEmpty)
        #expect(counters.description == "1 queries heard, 1 malformed, 5 off link")
    }

    @Test func aResponseWithoutAReportedHopLimitIsBelieved() {
        var browse = session(types: [type])
        let answer = response([DNSRecord(name: type, ttl: 4_500, data: .ptr(instance(1)))])
        let run = BrowseHarness.play(
            &browse,
            to: at(10),
            inputs: [(at(1), linkDatagram(answer, from: peer, hopLimit: nil))]
        )
        #expect(run.events.count == 1 && browse.counters.responses == 1)
    }

    @Test func knownAnswersAreBudgetedToFourteenHundredBytes() throws {
        var cache = MDNSCache()
        let pointers = (0..<100).map { DNSRecord(name: type, ttl: 4_500, data: .ptr(instance($0))) }
        _ = cache.insert(pointers, at: .zero)
        let query = MDNSBrowseSession.query([DNSQuestion(name: type, type: .ptr)], cache: cache, at: at(1_000))
        let bytes = try query.encoded()
        #expect(bytes.count <= MDNSBrowseSession.queryBudget)
        #expect((10..<100).contains(query.answers.count), "as many as fit, not all")
        // Few known answers all go.
        var small = MDNSCache()
        _ = small.insert(Array(pointers.prefix(3)), at: .zero)
        let all = MDNSBrowseSession.query([DNSQuestion(name: type, type: .ptr)], cache: small, at: at(1_000))
        #expect(all.answers.count == 3)
    }

    @Test func everyQuerySentStaysWithinTheBudgetWhateverTheCacheHolds() {
        var browse = session(types: [type])
        let pointers = (0..<300).map { DNSRecord(name: type, ttl: 4_500, data: .ptr(instance($0))) }
        let inputs = stride(from: 0, to: 300, by: 10).map { start in
            (at(30), linkDatagram(response(Array(pointers[start..<(start + 10)])), from: peer))
        }
        let run = BrowseHarness.play(&browse, to: .zero + .seconds(8), inputs: inputs)
        #expect(run.sent.count >= 4)
        #expect(run.sent.allSatisfy { $0.datagram.payload.count <= MDNSBrowseSession.queryBudget })
    }

    @Test func theTypeInstanceAndCacheBoundsAreCounted() {
        var browse = session(maximumRecords: 16, maximumTypes: 4, maximumInstances: 3)
        let types = (0..<10).map {
            DNSRecord(name: DNSSDBrowser.allTypes, ttl: 4_500, data: .ptr(DNSName("_t\($0)._tcp.local")!))
        }
        let other = SocketAddress(.v4(IPv4Address(198, 18, 0, 3)), port: 5353)
        let instances = (0..<5).map {
            DNSRecord(name: DNSName("_t0._tcp.local")!, ttl: 4_500, data: .ptr(DNSName("i\($0)._t0._tcp.local")!))
        }
        let run = BrowseHarness.play(
            &browse,
            to: at(50),
            inputs: [
                (at(1), linkDatagram(response(types), from: peer)),
                (at(2), linkDatagram(response(instances), from: other)),
            ]
        )
        let counters = browse.counters
        #expect(browse.browsers[1]!.typeCount <= 4 && browse.browsers[1]!.instances.count <= 3)
        #expect(counters.typeLimit == 4 && counters.instanceLimit == 3)
        // A source may hold an eighth of 16 records: 2. The first source's 10 pushed out 8 of its own.
        #expect(counters.recordsEvictedBySourceQuota == 8 + 3)
        #expect(browse.caches[1]!.entries.count <= 16)
        #expect(run.events.count <= 3)
    }

    @Test func theTypeBoundIsCountedWhenTheMetaQueryNamesMoreTypes() {
        var browse = session(maximumTypes: 4)
        let types = (0..<10).map {
            DNSRecord(name: DNSSDBrowser.allTypes, ttl: 4_500, data: .ptr(DNSName("_t\($0)._tcp.local")!))
        }
        // One response per type from its own address, so that the cache's source quota does not interfere.
        let inputs = types.enumerated().map { index, record in
            let source = SocketAddress(.v4(IPv4Address(198, 18, 1, UInt8(index))), port: 5353)
            return (at(1), linkDatagram(response([record]), from: source))
        }
        _ = BrowseHarness.play(&browse, to: at(50), inputs: inputs)
        #expect(browse.browsers[1]!.typeCount == 4)
        #expect(browse.counters.typesRefused == 6)
        #expect(browse.counters.description.contains("6 types refused (limit 4)"))
    }

    @Test func theInstanceBoundIsCounted() {
        var browse = session(types: [type], maximumInstances: 3)
        let inputs = (0..<5).map { index in
            let source = SocketAddress(.v4(IPv4Address(198, 18, 1, UInt8(index))), port: 5353)
            return (
                at(1),
                linkDatagram(
                    response([DNSRecord(name: type, ttl: 4_500, data: .ptr(instance(index)))]),
                    from: source
                )
            )
        }
        let run = BrowseHarness.play(&browse, to: at(50), inputs: inputs)
        #expect(run.events.count == 3 && browse.counters.instancesRefused == 2)
    }

    @Test func aDeadlineIsNeverLeftInThePast() {
        var browse = session(types: [type])
        var now = MonotonicInstant.zero
        for index in 0..<200 {
            now = now + .milliseconds(7)
            let answer = response([DNSRecord(name: type, ttl: 1, data: .ptr(instance(index)))])
            browse.handleDatagram(linkDatagram(answer, from: peer), at: now)
            while browse.pollTransmit(at: now) != nil {}
            while browse.pollEvent() != nil {}
            #expect(browse.nextDeadline.map { $0 > now } == true)
        }
    }
}
