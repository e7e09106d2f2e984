import Testing
import UDP
import UDPTools

/// `udp listen`'s per-peer table against a flood of sources: bounded in entries, the evicted counted.
@Suite struct PeerTableTests {
    @Test("10,000 sources through a table of 64: it never holds more, and every datagram is still counted")
    func aFloodOfSourcesIsBounded() {
        var table = PeerTable(capacity: 64)
        let regular = SocketAddress(IPv4Address(127, 0, 0, 1), port: 9)
        var most = 0
        for index in 0..<10_000 {
            let forged = SocketAddress(IPv4Address(value: 0xC612_0000 | UInt32(index)), port: 1024)
            _ = table.record(forged, bytes: 10)
            if index % 16 == 0 { _ = table.record(regular, bytes: 10) }
            most = max(most, table.entries.count)
        }
        #expect(most <= 64 && table.entries.count <= 64)
        #expect(table.evictedPeers >= 10_000 - 64)
        #expect(table.totalDatagrams == 10_000 + 625)
        #expect(table.entries[regular] != nil, "a peer seen often is not the least recently seen")
    }
}
