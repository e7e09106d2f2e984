import Testing
import UDP
import UDPTools

@Suite struct ToolsTextTests {
    @Test func theSearchRangeRunsFromTheFloorToTheRoute() {
        #expect(PathMTUSearch.sizes(family: .inet, routeMTU: 9000) == (548, 8972))
        #expect(PathMTUSearch.sizes(family: .inet6, routeMTU: nil) == (1232, 1452))
        // A route below Ethernet's 1500 is not believed: the search finds the real one.
        #expect(PathMTUSearch.sizes(family: .inet, routeMTU: 1280) == (548, 1472))
        #expect(PathMTUSearch.sizes(family: .inet, routeMTU: 65_536) == (548, 65_507))
        #expect(PathMTUSearch.sizes(family: .inet, routeMTU: 1500, minimum: 2000, maximum: nil) == (2000, 1472))
    }

    @Test func anImpairmentNamesOnlyWhatItDoes() {
        #expect(Impairment().description == "none")
        let impairment = Impairment(loss: 0.2, delay: .milliseconds(40), jitter: .milliseconds(10), rate: 500)
        #expect(impairment.description == "loss 20%, delay 40 ± 10 ms, rate 500/s")
    }

    @Test func thePeerSummaryCountsEachPeer() throws {
        var peers = PeerTable(capacity: 1)
        let first = try SocketAddress(parsing: "127.0.0.1:1000")
        _ = peers.record(first, bytes: 5)
        _ = peers.record(first, bytes: 5)
        _ = peers.record(try SocketAddress(parsing: "127.0.0.1:2000"), bytes: 3)
        #expect(
            peers.summaryLines == [
                "--- 3 datagrams from 2 peers ---", "127.0.0.1:2000: 1 datagram, 3 bytes",
                "other peers (1, forgotten past --max-peers): 2 datagrams, 10 bytes",
            ]
        )
    }

    @Test func hostCountersPrintAsNetstatDoes() {
        var counters = HostUDPCounters()
        counters.ipv4.inDatagrams = 3
        #expect(counters.lines.first == "Udp:")
        #expect(counters.lines[1] == "    InDatagrams: 3")
        #expect(counters.changesLine == "InDatagrams +3")
        #expect(HostUDPCounters().changesLine == "no change")
        #expect(counters.json.hasPrefix("{\"udp\": {\"InDatagrams\": 3, \"NoPorts\": 0"))
    }
}
