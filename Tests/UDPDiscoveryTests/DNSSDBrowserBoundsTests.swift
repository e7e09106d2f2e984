import Testing
import UDP
import UDPDNS

@testable import UDPDiscovery

@Suite struct DNSSDBrowserBoundsTests {
    let second: UInt64 = 1_000_000_000
    let type = DNSName("_http._tcp.local")!
    let instance = DNSName("Web Server._http._tcp.local")!

    func meta(_ type: DNSName, ttl: UInt32 = 4500) -> DNSRecord {
        DNSRecord(name: DNSSDBrowser.allTypes, ttl: ttl, data: .ptr(type))
    }

    func forgedType(_ index: Int) -> DNSName { DNSName("_t\(index)._tcp.local")! }

    @Test func typesFromTheMetaQueryAreBoundedAndRefusalsCounted() {
        var cache = MDNSCache()
        var browser = DNSSDBrowser(types: nil, maximumTypes: 10)
        for index in 0..<50 {
            _ = browser.apply(cache.insert([meta(forgedType(index))], at: fakeTime(0)), cache: cache)
        }
        #expect(browser.types.count == 10)
        #expect(browser.counters.typesRefused == 40)
        #expect(browser.questions(cache: cache).count == 11, "the meta-query and the ten types")

        var bytesBound = DNSSDBrowser(types: nil, maximumTypeBytes: 100)
        _ = bytesBound.apply(
            cache.insert([], at: fakeTime(0)) + (10..<60).map { .added(meta(forgedType($0))) },
            cache: cache
        )
        #expect(bytesBound.typeBytes <= 100 && bytesBound.types.count == 100 / forgedType(10).wireLength)
        #expect(bytesBound.counters.typesRefused == 50 - bytesBound.types.count)
    }

    @Test func aTypeIsForgottenWhenItsMetaQueryRecordLeavesTheCache() {
        var cache = MDNSCache()
        var browser = DNSSDBrowser(types: nil, maximumTypes: 1)
        _ = browser.apply(cache.insert([meta(forgedType(1))], at: fakeTime(0)), cache: cache)
        _ = browser.apply(cache.insert([meta(type)], at: fakeTime(0)), cache: cache)
        #expect(browser.types == [forgedType(1)] && browser.counters.typesRefused == 1)
        // Its goodbye: gone a second later, and the room it held is free for a real type.
        _ = browser.apply(cache.insert([meta(forgedType(1), ttl: 0)], at: fakeTime(second)), cache: cache)
        _ = browser.apply(cache.expire(now: fakeTime(2 * second)), cache: cache)
        #expect(browser.types.isEmpty && browser.typeBytes == 0)
        #expect(browser.questions(cache: cache) == [DNSQuestion(name: DNSSDBrowser.allTypes, type: .ptr)])
        _ = browser.apply(cache.insert([meta(type, ttl: 0)], at: fakeTime(3 * second)), cache: cache)
        _ = browser.apply(cache.expire(now: fakeTime(4 * second)), cache: cache)
        _ = browser.apply(cache.insert([meta(type)], at: fakeTime(5 * second)), cache: cache)
        #expect(browser.types == [type])
    }

    @Test func anInstanceHeardBeforeItsTypeIsReportedWhenTheTypeIsLearned() {
        var cache = MDNSCache()
        var browser = DNSSDBrowser(types: nil)
        // A response that lists the instance's PTR before the meta-query's PTR for its type.
        let pointer = DNSRecord(name: type, ttl: 4500, data: .ptr(instance))
        #expect(browser.apply(cache.insert([pointer], at: fakeTime(0)), cache: cache).isEmpty)
        let events = browser.apply(cache.insert([meta(type)], at: fakeTime(second)), cache: cache)
        #expect(events == [.appeared(DNSSDBrowser.Instance(name: instance, type: type))])
        // Its PTR's goodbye still removes it.
        _ = cache.insert([DNSRecord(name: type, ttl: 0, data: .ptr(instance))], at: fakeTime(2 * second))
        #expect(browser.apply(cache.expire(now: fakeTime(3 * second)), cache: cache).count == 1)
        #expect(browser.instances.isEmpty && browser.instanceBytes == 0)
    }

    @Test func instancesAreBoundedAndRefusalsCounted() {
        var cache = MDNSCache()
        var browser = DNSSDBrowser(types: [type], maximumInstances: 5)
        let pointers = (0..<12).map {
            DNSRecord(name: type, ttl: 4500, data: .ptr(DNSName("Forged \($0)._http._tcp.local")!))
        }
        let events = browser.apply(cache.insert(pointers, at: fakeTime(0)), cache: cache)
        #expect(events.count == 5 && browser.instances.count == 5)
        #expect(browser.counters.instancesRefused == 7)

        var small = DNSSDBrowser(types: [type], maximumInstanceBytes: 400)
        _ = small.apply(cache.records(named: type, type: .ptr).map { .added($0) }, cache: cache)
        #expect(small.instanceBytes <= 400 && small.counters.instancesRefused == 12 - small.instances.count)
    }

    @Test func anUpdateThatWouldPassTheByteBoundIsRefused() {
        var cache = MDNSCache()
        var browser = DNSSDBrowser(types: [type], maximumInstanceBytes: 300)
        _ = browser.apply(
            cache.insert([DNSRecord(name: type, ttl: 4500, data: .ptr(instance))], at: fakeTime(0)),
            cache: cache
        )
        let text = DNSRecord(name: instance, ttl: 4500, data: .txt([Array(repeating: 0x61, count: 250)]))
        _ = browser.apply(cache.insert([text], at: fakeTime(second)), cache: cache)
        #expect(browser.instances[instance]?.txt == nil, "kept as it was")
        #expect(browser.counters.updatesRefused == 1 && browser.instanceBytes <= 300)
    }

    @Test func theMetaQueryIsNeverATypeOfItsOwn() {
        // The hostile neighbour's packet: a meta-query PTR that names the meta-query. Taken as a type, every type
        // the meta-query named became an instance of it that no PTR removed, until the instance bound was full.
        var cache = MDNSCache()
        var browser = DNSSDBrowser(types: nil, maximumInstances: 4)
        _ = browser.apply(cache.insert((0..<10).map { meta(forgedType($0)) }, at: fakeTime(0)), cache: cache)
        let events = browser.apply(cache.insert([meta(DNSSDBrowser.allTypes)], at: fakeTime(0)), cache: cache)
        #expect(events.isEmpty && browser.instances.isEmpty)
        #expect(browser.typeCount == 10 && !browser.types.contains(DNSSDBrowser.allTypes))
        let pointer = DNSRecord(name: type, ttl: 4500, data: .ptr(instance))
        _ = browser.apply(cache.insert([meta(type), pointer], at: fakeTime(second)), cache: cache)
        #expect(browser.instances.keys.sorted { "\($0)" < "\($1)" } == [instance])
        #expect(browser.counters.instancesRefused == 0)
    }
}
