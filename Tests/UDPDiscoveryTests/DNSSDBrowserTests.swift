import Testing
import UDP
import UDPDNS

@testable import UDPDiscovery

@Suite struct DNSSDBrowserTests {
    let type = DNSName("_http._tcp.local")!
    let instance = DNSName("Web Server._http._tcp.local")!
    let host = DNSName("box.local")!
    let second: UInt64 = 1_000_000_000

    var pointer: DNSRecord { DNSRecord(name: type, ttl: 4500, data: .ptr(instance)) }
    var service: DNSRecord {
        DNSRecord(
            name: instance,
            rawClass: 0x8001,
            ttl: 120,
            data: .srv(priority: 0, weight: 0, port: 8080, target: host)
        )
    }
    func text(_ strings: String...) -> DNSRecord {
        DNSRecord(name: instance, rawClass: 0x8001, ttl: 4500, data: .txt(strings.map { Array($0.utf8) }))
    }
    var address: DNSRecord { DNSRecord(name: host, rawClass: 0x8001, ttl: 120, data: .a(IPv4Address(198, 18, 3, 2))) }

    @Test func anInstanceAppearsResolvesAndLeaves() throws {
        var cache = MDNSCache()
        var browser = DNSSDBrowser(types: [type])
        #expect(browser.questions(cache: cache) == [DNSQuestion(name: type, type: .ptr)])

        let appeared = browser.apply(cache.insert([pointer], at: fakeTime(0)), cache: cache)
        #expect(appeared == [.appeared(DNSSDBrowser.Instance(name: instance, type: type))])
        #expect(browser.questions(cache: cache).contains(DNSQuestion(name: instance, type: .srv)))

        #expect(browser.apply(cache.insert([service, text("path=/")], at: fakeTime(second)), cache: cache).isEmpty)
        #expect(browser.questions(cache: cache).contains(DNSQuestion(name: host, type: .a)), "the host's address next")

        let events = browser.apply(cache.insert([address], at: fakeTime(2 * second)), cache: cache)
        guard case .resolved(let resolved)? = events.first, events.count == 1 else {
            Issue.record("expected one resolved event, got \(events)")
            return
        }
        #expect(
            resolved.instanceName == "Web Server" && resolved.serviceType == "_http._tcp" && resolved.domain == "local"
        )
        #expect(
            resolved.host == host && resolved.port == 8080 && resolved.addresses == [.v4(IPv4Address(198, 18, 3, 2))]
        )
        #expect(resolved.txtAttributes.map(\.key) == ["path"])
        #expect(!browser.questions(cache: cache).contains { $0.name == instance }, "nothing more to ask about it")

        // Heard again unchanged: no second report. A new TXT: reported again.
        #expect(browser.apply(cache.insert([service, address], at: fakeTime(3 * second)), cache: cache).isEmpty)
        let updated = browser.apply(cache.insert([text("path=/v2")], at: fakeTime(4 * second)), cache: cache)
        #expect(updated.count == 1, "\(updated)")

        // The PTR's goodbye: gone a second later.
        _ = cache.insert([DNSRecord(name: type, ttl: 0, data: .ptr(instance))], at: fakeTime(5 * second))
        let gone = browser.apply(cache.expire(now: fakeTime(6 * second)), cache: cache)
        #expect(gone.count == 1)
        if case .removed(let removed)? = gone.first {
            #expect(removed.name == instance)
        } else {
            Issue.record("\(gone)")
        }
        #expect(browser.instances.isEmpty)
    }

    @Test func browsingEveryTypeFollowsTheMetaQuery() {
        var cache = MDNSCache()
        var browser = DNSSDBrowser(types: nil)
        #expect(browser.questions(cache: cache) == [DNSQuestion(name: DNSSDBrowser.allTypes, type: .ptr)])
        let meta = DNSRecord(name: DNSSDBrowser.allTypes, ttl: 4500, data: .ptr(type))
        #expect(browser.apply(cache.insert([meta], at: fakeTime(0)), cache: cache).isEmpty)
        #expect(browser.types == [type])
        #expect(browser.questions(cache: cache).contains(DNSQuestion(name: type, type: .ptr)))
        let events = browser.apply(cache.insert([pointer], at: fakeTime(second)), cache: cache)
        #expect(events == [.appeared(DNSSDBrowser.Instance(name: instance, type: type))])
    }

    @Test func txtAttributesFollowRFC6763() {
        var instance = DNSSDBrowser.Instance(name: instance, type: type)
        instance.txt = ["a=1", "flag", "=no key", "A=dup", "empty=", ""].map { Array($0.utf8) }
        let attributes = instance.txtAttributes
        #expect(attributes.map(\.key) == ["a", "flag", "empty"])
        #expect(attributes.map(\.value) == [Array("1".utf8), nil, []])
    }
}
