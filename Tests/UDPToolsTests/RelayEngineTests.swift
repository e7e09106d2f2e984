import Testing
import UDP
import UDPPatterns
import UDPTools

@Suite struct RelayEngineTests {
    @Test("the same seed gives the same fate to every datagram, and the fates follow the probabilities")
    func faultScheduleFollowsTheSeed() {
        let impairment = Impairment(
            loss: 0.2,
            duplicate: 0.1,
            reorder: 0.05,
            delay: .milliseconds(1),
            jitter: .microseconds(500)
        )
        var first = SeededGenerator(seed: 7)
        var second = SeededGenerator(seed: 7)
        var lost = 0
        var duplicated = 0
        for index in 0..<10_000 {
            let now = UInt64(index) * 1_000
            let fate = impairment.fate(now: now, using: &first)
            #expect(fate == impairment.fate(now: now, using: &second))
            if fate.copies == 0 { lost += 1 }
            if fate.copies == 2 { duplicated += 1 }
            for time in fate.times { #expect(time >= now + 500_000 && time <= now + 1_500_000) }
        }
        #expect((1_800...2_200).contains(lost))  // 20% of 10,000, within 5 standard deviations
        #expect((620...820).contains(duplicated))  // 10% of the 8,000 kept
        var other = SeededGenerator(seed: 8)
        var same = SeededGenerator(seed: 7)
        let fates = (0..<100).map { _ in impairment.fate(now: 0, using: &same) }
        #expect(fates != (0..<100).map { _ in impairment.fate(now: 0, using: &other) })
    }

    @Test("a transparent direction draws nothing, so it cannot shift a seeded run")
    func transparentDrawsNothing() {
        var generator = SeededGenerator(seed: 1)
        let fate = Impairment().fate(now: 5, using: &generator)
        #expect(fate.times == [5] && !fate.isHeld)
        #expect(generator == SeededGenerator(seed: 1))
    }

    @Test("the rate shaper hands out slots 1/rate apart and refuses a wait over a second")
    func rateShaper() throws {
        var shaper = try #require(RateShaper(rate: 10))
        #expect(shaper.book(readyAt: 0) == 0)
        #expect(shaper.book(readyAt: 0) == 100_000_000)
        for _ in 0..<8 { _ = shaper.book(readyAt: 0) }
        #expect(shaper.book(readyAt: 0) == 1_000_000_000)
        #expect(shaper.book(readyAt: 0) == nil)
        #expect(RateShaper(rate: 0) == nil)
    }

    @Test("a relay with loss forwards what its seed keeps, both ways, and its counters add up")
    func relaysThroughLossAndCountsIt() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let serverAddress = try server.localAddress
        let relay = try RelayEngine(
            listen: .loopbackV4(port: 0),
            target: serverAddress,
            up: Impairment(loss: 0.5),
            seed: 3
        )
        let relayAddress = SocketAddress.loopbackV4(port: try relay.port)
        let box = RelayBox(relay)
        let counters = try withEngine(
            { stop in box.run(stop) },
            test: {
                let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
                for index in 0..<200 { try client.send([UInt8(index)], to: relayAddress) }
                var arrived = 0
                while let request = try server.receive(timeout: .milliseconds(500)) {
                    arrived += 1
                    try server.send(request.payload, to: request.sender)
                }
                var replies = 0
                while try client.receive(timeout: .milliseconds(200)) != nil { replies += 1 }
                #expect((60...140).contains(arrived))
                #expect(replies == arrived)
            }
        )
        let up = try counters.get().up
        let down = try counters.get().down
        #expect(up.received == 200)
        #expect(
            up.received - up.dropped + up.duplicated == up.forwarded + up.rateDropped + up.failed + up.unmapped
                + up.inFlight
        )
        #expect(down.forwarded == up.forwarded)
        #expect(try counters.get().activeClients == 1)
    }
}

extension RelayEngineTests {
    @Test("the relay loses and duplicates exactly the datagrams its seed says, one by one")
    func seededFatesDatagramByDatagram() throws {
        let impairment = Impairment(loss: 0.3, duplicate: 0.2)
        // The relay draws each direction from its own generator, seeded from the seed's first two numbers.
        var seeds = SeededGenerator(seed: 11)
        var up = SeededGenerator(seed: seeds.next())
        let expected = (0..<200).flatMap { index -> [UInt8] in
            [UInt8](repeating: UInt8(index), count: impairment.fate(now: 0, using: &up).copies)
        }
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let relay = try RelayEngine(
            listen: .loopbackV4(port: 0),
            target: try server.localAddress,
            up: impairment,
            seed: 11
        )
        let relayAddress = SocketAddress.loopbackV4(port: try relay.port)
        let box = RelayBox(relay)
        _ = try withEngine(
            { stop in box.run(stop) },
            test: {
                let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
                var arrived: [UInt8] = []
                for index in 0..<200 {
                    try client.send([UInt8(index)], to: relayAddress)
                    // One at a time, so the order that arrives is the order sent: what is missing was lost.
                    let copies = expected.filter { $0 == UInt8(index) }.count
                    for _ in 0..<copies {
                        arrived += try #require(try server.receive(timeout: .seconds(5))).payload
                    }
                }
                #expect(try server.receive(timeout: .milliseconds(100)) == nil)
                #expect(arrived == expected)
            }
        )
    }

    @Test("a burst through a transparent relay keeps every datagram's boundaries, bytes and order, both ways")
    func burstsKeepTheirBoundaries() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let relay = try RelayEngine(listen: .loopbackV4(port: 0), target: try server.localAddress)
        let relayAddress = SocketAddress.loopbackV4(port: try relay.port)
        // Runs of one size (sent as GSO trains), shorter ones that end a run, longer ones that start another.
        let sizes = [100, 100, 100, 40, 100, 1200, 1200, 1, 0, 0, 500] + [Int](repeating: 64, count: 80)
        let payloads = sizes.enumerated().map { index, size in
            [UInt8]((0..<size).map { UInt8(truncatingIfNeeded: $0 &+ index) })
        }
        let box = RelayBox(relay)
        _ = try withEngine(
            { stop in box.run(stop) },
            test: {
                let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
                for payload in payloads { try client.send(payload, to: relayAddress) }
                var arrived: [[UInt8]] = []
                while arrived.count < payloads.count, let request = try server.receive(timeout: .seconds(5)) {
                    arrived.append(request.payload)
                    try server.send(request.payload, to: request.sender)
                }
                #expect(arrived == payloads)
                var replies: [[UInt8]] = []
                while replies.count < payloads.count, let reply = try client.receive(timeout: .seconds(5)) {
                    replies.append(reply.payload)
                }
                #expect(replies == payloads)
            }
        )
    }
}

/// Lets a worker thread own the relay (it is not copyable) and hand its counters back.
extension RelayEngineTests {
    @Test(
        "delayed copies past the relay's bound, in datagrams or in bytes, are refused and counted, not queued",
        arguments: [(datagrams: 5, bytes: 1 << 20), (datagrams: 1000, bytes: 5 * 30)]
    )
    func heldCopiesAreBounded(_ bound: (datagrams: Int, bytes: Int)) throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let relay = try RelayEngine(
            listen: .loopbackV4(port: 0),
            target: try server.localAddress,
            up: Impairment(delay: .seconds(60)),
            maximumHeld: bound
        )
        let relayAddress = SocketAddress.loopbackV4(port: try relay.port)
        let done = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let doneAddress = try done.localAddress
        let box = RelayBox(relay)
        let counters = try withEngine(
            { stop in
                // Tells the test once all 20 are in: nothing else says so while every copy waits a minute.
                box.run(stop, reportInterval: .milliseconds(1)) { counters in
                    guard counters.up.received == 20 else { return }
                    _ = try? UDPSocket(family: .inet).send([1], to: doneAddress)
                }
            },
            test: {
                let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
                for _ in 0..<20 { try client.send([UInt8](repeating: 7, count: 30), to: relayAddress) }
                #expect(try done.receive(timeout: .seconds(5)) != nil, "the relay took all 20")
            }
        )
        let up = try counters.get().up
        #expect(up.received == 20 && up.inFlight == 5 && up.queueFull == 15)
        #expect(up.received == up.forwarded + up.queueFull + up.inFlight)
    }
}

private final class RelayBox: @unchecked Sendable {
    private var relay: RelayEngine?
    init(_ relay: consuming RelayEngine) { self.relay = consume relay }

    func run(
        _ stop: StopSignal,
        reportInterval: Duration? = nil,
        report: (RelayEngine.Counters) -> Void = { _ in }
    ) -> Result<RelayEngine.Counters, UDPError> {
        Result { () throws(UDPError) in
            var relay = self.relay.take()!
            try relay.run(until: stop, reportInterval: reportInterval, report: report)
            return relay.counters
        }
    }
}
