import Testing
import UDP
import UDPDNS

@testable import UDPDiscovery

@Suite struct MDNSCacheTests {
    let host = DNSName("box.local")!
    let second: UInt64 = 1_000_000_000

    func address(_ last: UInt8, ttl: UInt32 = 120, flush: Bool = false) -> DNSRecord {
        DNSRecord(name: host, rawClass: flush ? 0x8001 : 1, ttl: ttl, data: .a(IPv4Address(198, 18, 3, last)))
    }

    @Test func aRecordLivesForItsTTLFromWhenItWasLastHeard() {
        var cache = MDNSCache()
        #expect(cache.insert([address(1)], at: 0) == [.added(address(1))])
        #expect(cache.insert([address(1)], at: 100 * second).isEmpty, "heard again: refreshed, not added twice")
        #expect(cache.expire(now: 219 * second).isEmpty)
        #expect(cache.nextExpiry() == 220 * second)
        #expect(cache.expire(now: 220 * second) == [.removed(address(1))])
        #expect(cache.entries.isEmpty && cache.bytes == 0 && cache.nextExpiry() == nil)
    }

    @Test func aGoodbyeEndsARecordOneSecondLater() {
        var cache = MDNSCache()
        _ = cache.insert([address(1), address(2)], at: 0)
        #expect(cache.insert([address(1, ttl: 0), address(9, ttl: 0)], at: 10 * second).isEmpty)
        #expect(cache.entries.count == 2, "a goodbye for a record never held adds nothing")
        #expect(cache.expire(now: 11 * second) == [.removed(address(1))])
        #expect(cache.records(named: host, type: .a) == [address(2)])
    }

    @Test func theCacheFlushBitEndsTheRestOfTheSetHeardOverASecondAgo() {
        var cache = MDNSCache()
        _ = cache.insert([address(1)], at: 0)
        _ = cache.insert([address(2)], at: 9 * second + second / 2)
        // At 10 s: .3 arrives with cache-flush. .1 (heard 10 s ago) goes in a second; .2 (0.5 s ago) stays, as
        // it belongs to the same burst of the new set.
        let changes = cache.insert([address(3, flush: true)], at: 10 * second)
        #expect(changes == [.added(address(3))], "kept without the flush bit")
        #expect(cache.expire(now: 11 * second) == [.removed(address(1))])
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
            for change in cache.insert([record], at: 0) { if case .removed = change { removed += 1 } }
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
        #expect(cache.insert([big], at: 0).isEmpty)
        #expect(cache.entries.isEmpty)
    }

    @Test func knownAnswersAreThoseWithMoreThanHalfTheirTTLLeft() {
        var cache = MDNSCache()
        let question = DNSQuestion(name: host, type: .a)
        _ = cache.insert([address(1, ttl: 100)], at: 0)
        #expect(cache.knownAnswers(for: question, at: 40 * second).map(\.ttl) == [60], "with the TTL left")
        #expect(cache.knownAnswers(for: question, at: 50 * second).isEmpty, "half gone: ask again")
        #expect(cache.knownAnswers(for: DNSQuestion(name: host, type: .aaaa), at: 0).isEmpty)
    }

    @Test func manyRefreshesKeepOneLiveExpiryPerRecord() {
        var cache = MDNSCache()
        for round in 0..<1_000 { _ = cache.insert([address(1)], at: UInt64(round) * second) }
        #expect(cache.nextExpiry() == (999 + 120) * second)
        #expect(cache.expire(now: 1_118 * second).isEmpty)
        #expect(cache.expire(now: 1_119 * second) == [.removed(address(1))])
    }
}

@Suite struct MDNSQueryScheduleTests {
    @Test func intervalsDoubleFromOneSecondUpToAnHour() {
        let second: UInt64 = 1_000_000_000
        var schedule = MDNSQuerySchedule(startingAt: 5 * second, firstDelay: 50_000_000)
        var times: [UInt64] = []
        for _ in 0..<16 {
            times.append(schedule.nextQuery)
            schedule.sent()
        }
        #expect(times[0] == 5 * second + 50_000_000)
        let gaps = zip(times.dropFirst(), times).map { ($0 - $1) / second }
        #expect(Array(gaps.prefix(5)) == [1, 2, 4, 8, 16])
        #expect(gaps.last == 3_600, "never more than an hour apart")
    }

    @Test func theFirstQueryWaitsTwentyToOneHundredTwentyMilliseconds() {
        for _ in 0..<100 {
            let delay = MDNSQuerySchedule(startingAt: 0).nextQuery
            #expect((20_000_000...120_000_000).contains(delay))
        }
    }
}
