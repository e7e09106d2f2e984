import Testing
import UDP
import UDPTools

@Suite struct HostCountersChangesTests {
    @Test("changes: each counter's gain, wrapping; IPv6 only where both readings have it")
    func changes() {
        var before = HostUDPCounters.Counters()
        before.inDatagrams = 10
        before.receiveBufferErrors = .max
        var after = before
        after.inDatagrams = 25
        after.receiveBufferErrors = 1
        let delta = HostUDPCounters(ipv4: after, ipv6: after).changes(
            since: HostUDPCounters(ipv4: before, ipv6: before)
        )
        #expect(delta.ipv4.inDatagrams == 15)
        #expect(delta.ipv4.receiveBufferErrors == 2, "a wrapped counter")
        #expect(delta.ipv4.noPorts == 0)
        #expect(delta.ipv6 == delta.ipv4)
        #expect(HostUDPCounters(ipv4: after, ipv6: after).changes(since: HostUDPCounters(ipv4: before)).ipv6 == nil)
    }

    @Test("watch hands over the changes every interval until the stop")
    func watch() throws {
        guard let first = try? HostUDPCounters.read() else { return }  // no procfs: nothing to watch
        let stop = try StopSignal()
        var calls = 0
        try HostUDPCounters.watch(from: first, every: .milliseconds(20), until: stop) { delta in
            calls += 1
            #expect(delta.ipv4.inDatagrams < 1 << 40, "a change, not a reading")
            if calls == 3 { stop.request() }
        }
        #expect(calls == 3)
    }
}

@Suite struct DescriptorLimitMappingsTests {
    @Test("the relay's mappings fit under the soft limit it raised")
    func descriptorRoom() {
        let (mappings, softLimit) = DescriptorLimit.raiseSoftLimit(forMappings: 100)
        #expect((1...100).contains(mappings))
        if let softLimit { #expect(mappings == DescriptorLimit.mappings(wanted: 100, softLimit: softLimit)) }
    }
}
