import Testing
import UDP
import UDPTools

@Suite struct HostCountersTests {
    @Test func parsesProcNetSNMP() {
        let text = """
            Ip: Forwarding DefaultTTL
            Ip: 1 64
            Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors NewOne
            Udp: 311 19 7 145 6 1 2 3 4 99
            UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
            UdpLite: 0 0 0 0 0 0 0 0 0
            """
        let counters = HostUDPCounters.parseSNMP(text)
        #expect(counters.inDatagrams == 311)
        #expect(counters.noPorts == 19)
        #expect(counters.inErrors == 7)
        #expect(counters.outDatagrams == 145)
        #expect(counters.receiveBufferErrors == 6)
        #expect(counters.sendBufferErrors == 1)
        #expect(counters.checksumErrors == 2)
        #expect(counters.ignoredMulticast == 3)
        #expect(counters.memoryErrors == 4)
    }

    @Test func parsesProcNetSNMP6() {
        let text =
            "Ip6InReceives \t5\nUdp6InDatagrams                 \t1899\nUdp6NoPorts \t495\nUdp6RcvbufErrors\t18\n"
        let counters = HostUDPCounters.parseSNMP6(text)
        #expect(counters.inDatagrams == 1899)
        #expect(counters.noPorts == 495)
        #expect(counters.receiveBufferErrors == 18)
        #expect(counters.outDatagrams == 0)
    }

    @Test("datagrams to a port nobody listens on show as NoPorts")
    func noPortsCountsClosedPorts() throws {
        let closed = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try closed.localAddress.port
        try closed.close()
        let before = try HostUDPCounters.read()
        let sender = try UDPSocket(family: .inet)
        for _ in 0..<3 { try sender.send([1], to: .loopbackV4(port: port)) }
        let after = try HostUDPCounters.read()
        // Other processes may add their own; ours are at least three.
        #expect(after.ipv4.noPorts - before.ipv4.noPorts >= 3)
        #expect(after.ipv4.outDatagrams - before.ipv4.outDatagrams >= 3)
    }
}
