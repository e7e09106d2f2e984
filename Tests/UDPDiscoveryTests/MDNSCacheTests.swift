import Testing
import UDP
import UDPDNS
import UDPPatterns

@testable import UDPDiscovery

@Suite struct MDNSCacheTests {
    let host = DNSName("box.local")!
    let second: UInt64 = 1_000_000_000

    func address(_ last: UInt8, ttl: UInt32 = 120, flush: Bool = false) -> DNSRecord {
        DNSRecord(name: host, rawClass: flush ? 0x8001 : 1, ttl: ttl, data: .a(IPv4Address(198, 18, 3, last)))
    }

    @Test func aRecordLivesForItsTTLFromWhenItWasLastHeard() {
        var cache = MDNSCache()
        #expect(cache.insert([address(1)], at: fakeTime(0)) == [.added(address(1))])
        #expect(
            cache.insert([address(1)], at: fakeTime(100 * second)).isEmpty,
            "heard again: refreshed, not added twice"
        )
        #expect(cache.expire(now: fakeTime(219 * second)).isEmpty)
        #expect(cache.nextExpiry == fakeTime(220 * second))
        #expect(cache.expire(now: fakeTime(220 * second)) == [.removed(address(1))])
        #expect(cache.entries.isEmpty && cache.bytes == 0 && cache.nextExpiry == nil)
    }

    @Test func aGoodbyeEndsARecordOneSecondLater() {
        var cache = MDNSCache()
        _ = cache.insert([address(1), address(2)], at: fakeTime(0))
        #expect(cache.insert([address(1, ttl: 0), address(9, ttl: 0)], at: fakeTime(10 * second)).isEmpty)
        #expect(cache.entries.count == 2, "a goodbye for a record never held adds nothing")
        #expect(cache.expire(now: fakeTime(11 * second)) == [.removed(address(1))])
        #expect(cache.records(named: host, type: .a) == [address(2)])
    }

    @Test func theCacheFlushBitEndsTheRestOfTheSetHeardOverASecondAgo() {
        var cache = MDNSCache()
        _ = cache.insert([address(1)], at: fakeTime(0))
        _ = cache.insert([address(2)], at: fakeTime(9 * second + second / 2))
        // At 10 s: .3 arrives with cache-flush. .1 (heard 10 s ago) goes in a second; .2 (0.5 s ago) stays, as
        // it belongs to the same burst of the new set.
        let changes = cache.insert([address(3, flush: true)], at: fakeTime(10 * second))
        #expect(changes == [.added(address(3))], "kept without the flush bit")
        #expect(cache.expire(now: fakeTime(11 * second)) == [.removed(address(1))])
        #expect(Set(cache.records(named: host, type: .a)) == [address(2), address(3)])
    }

    @Test func aFloodOfForgedRecordsStaysWithinTheBounds() {
        var cache = MDNSCache(maximumRecords: 100, maximumBytes: 20_000)
        var removed = 0
        for index in 0..<10_000 {
            let name = DNSName("forged\(index).local")!
            let record = DNSRecord(
                name: name,
                ttl: UInt32(100 + index),
                data: .txt([Array(repeating: 0x61, count: 50)])
            )
            for change in cache.insert([record], at: fakeTime(0)) { if case .removed = change { removed += 1 } }
            #expect(cache.entries.count <= 100 && cache.bytes <= 20_000)
        }
        #expect(removed == 10_000 - cache.entries.count)
        // What is kept is what lasts longest: the last records heard.
        #expect(cache.entries.values.allSatisfy { $0.record.ttl >= 10_000 })
    }

    @Test func aRecordLargerThanTheWholeCacheIsNotKept() {
        var cache = MDNSCache(maximumBytes: 100)
        let big = DNSRecord(
            name: host,
            ttl: 10,
            data: .unknown(type: DNSRecordType(rawValue: 99), bytes: Array(repeating: 0, count: 200))
        )
        #expect(cache.insert([big], at: fakeTime(0)).isEmpty)
        #expect(cache.entries.isEmpty)
    }

    @Test func knownAnswersAreThoseWithMoreThanHalfTheirTTLLeft() {
        var cache = MDNSCache()
        let question = DNSQuestion(name: host, type: .a)
        _ = cache.insert([address(1, ttl: 100)], at: fakeTime(0))
        #expect(cache.knownAnswers(for: question, at: fakeTime(40 * second)).map(\.ttl) == [60], "with the TTL left")
        #expect(cache.knownAnswers(for: question, at: fakeTime(50 * second)).isEmpty, "half gone: ask again")
        #expect(cache.knownAnswers(for: DNSQuestion(name: host, type: .aaaa), at: fakeTime(0)).isEmpty)
    }

    @Test func manyRefreshesKeepOneLiveExpiryPerRecord() {
        var cache = MDNSCache()
        for round in 0..<1_000 { _ = cache.insert([address(1)], at: fakeTime(UInt64(round) * second)) }
        #expect(cache.nextExpiry == fakeTime((999 + 120) * second))
        #expect(cache.expire(now: fakeTime(1_118 * second)).isEmpty)
        #expect(cache.expire(now: fakeTime(1_119 * second)) == [.removed(address(1))])
    }
}

@Suite struct MDNSQueryScheduleTests {
    @Test func intervalsDoubleFromOneSecondUpToAnHour() {
        var schedule = MDNSQuerySchedule(startingAt: .zero + .seconds(5), firstDelay: .milliseconds(50))
        var times: [MonotonicInstant] = []
        for _ in 0..<16 {
            times.append(schedule.nextQuery)
            schedule.sent()
        }
        #expect(times[0] == .zero + .milliseconds(5_050))
        let gaps = zip(times.dropFirst(), times).map { $1.duration(to: $0) }
        #expect(Array(gaps.prefix(5)) == [1, 2, 4, 8, 16].map { .seconds($0) })
        #expect(gaps.last == .seconds(3_600), "never more than an hour apart")
    }

    @Test func theFirstQueryWaitsTwentyToOneHundredTwentyMilliseconds() {
        var generator = SeededGenerator(seed: 19)
        for _ in 0..<100 {
            let delay = MonotonicInstant.zero.duration(
                to: MDNSQuerySchedule(startingAt: .zero, using: &generator).nextQuery
            )
            #expect(MDNSQuerySchedule.firstDelays.contains(delay))
        }
    }

    @Test func aLateCallerSkipsTheQueriesItMissedAndKeepsDoubling() {
        var schedule = MDNSQuerySchedule(startingAt: .zero, firstDelay: .milliseconds(20))
        schedule.sent(at: .zero + .seconds(10))  // asleep from 20 ms to 10 s: 1, 2, 4 s gaps missed
        #expect(schedule.nextQuery == .zero + .milliseconds(15_020) && schedule.interval == .seconds(16))
    }
}

@Suite struct MDNSCacheSourceQuotaTests {
    let second: UInt64 = 1_000_000_000
    let real = IPAddress.v4(IPv4Address(198, 18, 0, 2))
    let instance = DNSName("Web Server._http._tcp.local")!
    let host = DNSName("box.local")!

    /// What a real responder announces: short-lived SRV and address, long-lived TXT.
    var announced: [DNSRecord] {
        [
            DNSRecord(name: instance, ttl: 120, data: .srv(priority: 0, weight: 0, port: 80, target: host)),
            DNSRecord(name: instance, ttl: 4500, data: .txt([Array("path=/".utf8)])),
            DNSRecord(name: host, ttl: 120, data: .a(IPv4Address(198, 18, 0, 2))),
        ]
    }

    /// Answers to the meta-query for `count` distinct types, TTL 4500, as the flood in issue 22 sent them.
    func flood(_ count: Int, from start: Int = 0) -> [DNSRecord] {
        (start..<start + count).map { index in
            DNSRecord(name: DNSSDBrowser.allTypes, ttl: 4500, data: .ptr(DNSName("_t\(index)._tcp.local")!))
        }
    }

    @Test func aFloodFromOneSourceDisplacesOnlyItself() {
        var cache = MDNSCache()
        _ = cache.insert(announced, from: real, at: fakeTime(0))
        let flooder = IPAddress.v4(IPv4Address(198, 18, 0, 66))
        for batch in 0..<200 { _ = cache.insert(flood(50, from: batch * 50), from: flooder, at: fakeTime(second)) }
        // Before source quotas the flood's longer TTLs pushed out every SRV and A record of the real host.
        for record in announced {
            #expect(cache.records(named: record.name, type: record.type) == [record], "\(record.type) kept")
        }
        #expect(cache.entries.count == 3 + cache.maximumRecordsPerSource)
        #expect(cache.counters.evictedBySourceQuota == 10_000 - cache.maximumRecordsPerSource)
        #expect(cache.counters.evictedWhenFull == 0)
        // A service published after the flood is still taken in.
        let later = DNSRecord(name: DNSName("printer.local")!, ttl: 120, data: .a(IPv4Address(198, 18, 0, 3)))
        #expect(
            cache.insert([later], from: .v4(IPv4Address(198, 18, 0, 3)), at: fakeTime(2 * second)) == [.added(later)]
        )
    }

    @Test func aFloodFromTheRealHostsOwnAddressPushesOutItsOldRecordsFirst() {
        var cache = MDNSCache()
        // The flood comes first, from the address the real service then answers from.
        for batch in 0..<200 { _ = cache.insert(flood(50, from: batch * 50), from: real, at: fakeTime(second)) }
        let changes = cache.insert(announced, from: real, at: fakeTime(2 * second))
        #expect(changes.filter { if case .added = $0 { true } else { false } }.count == 3)
        for record in announced {
            #expect(cache.records(named: record.name, type: record.type) == [record], "\(record.type) kept")
        }
    }

    @Test func aFullCacheEvictsFromTheSourceHoldingTheMost() {
        var cache = MDNSCache(maximumRecords: 64, maximumBytes: 1 << 20)
        #expect(cache.maximumRecordsPerSource == 8)
        _ = cache.insert(announced, from: real, at: fakeTime(0))
        // Twenty forged sources at their quota each fill the cache many times over.
        for source in 0..<20 {
            let address = IPAddress.v4(IPv4Address(198, 18, 1, UInt8(source)))
            for batch in 0..<4 {
                _ = cache.insert(flood(5, from: source * 100 + batch * 5), from: address, at: fakeTime(0))
            }
            #expect(cache.entries.count <= 64)
        }
        for record in announced {
            #expect(cache.records(named: record.name, type: record.type) == [record], "\(record.type) kept")
        }
        #expect(cache.counters.evictedWhenFull > 0 && cache.counters.evictedBySourceQuota > 0)
    }

    @Test func aRepeatFromAnotherSourceStaysOnTheFirstSourcesQuota() {
        var cache = MDNSCache(maximumRecords: 64, maximumBytes: 1 << 20)
        _ = cache.insert(announced, from: real, at: fakeTime(0))
        let flooder = IPAddress.v4(IPv4Address(198, 18, 0, 66))
        _ = cache.insert(announced, from: flooder, at: fakeTime(second))  // repeats the real host's records
        _ = cache.insert(flood(100), from: flooder, at: fakeTime(second))
        for record in announced {
            #expect(cache.entries[RecordKey(record)]?.source == real)
            #expect(cache.records(named: record.name, type: record.type) == [record])
        }
    }

    @Test func aRecordLargerThanASourcesQuotaIsRefusedAndCounted() {
        var cache = MDNSCache(maximumRecords: 64, maximumBytes: 8_000)
        let big = DNSRecord(name: host, ttl: 10, data: .txt([Array(repeating: 0x61, count: 1_200)]))
        #expect(cache.insert([big], from: real, at: fakeTime(0)).isEmpty)
        #expect(cache.counters.refusedTooLarge == 1)
    }

    @Test func aCacheFlushEndsALargeSetInOneStep() {
        var cache = MDNSCache()
        let flooder = IPAddress.v4(IPv4Address(198, 18, 0, 66))
        _ = cache.insert(flood(400), from: flooder, at: fakeTime(0))
        var flushing = flood(1, from: 1_000)[0]
        flushing.rawClass |= 0x8000
        // The flush ends the set's other members a second later, in one walk.
        _ = cache.insert([flushing], from: flooder, at: fakeTime(10 * second))
        #expect(cache.nextExpiry == fakeTime(11 * second))
        #expect(cache.expire(now: fakeTime(11 * second)).count == 400)
        #expect(cache.entries.count == 1)
    }
}
