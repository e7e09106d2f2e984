import Testing
import UDP
import UDPDiscovery
import UDPTools

// What `udp discover --stats` and `udp announce --stats` print: the non-zero counts, by reason, in fixed words.
@Suite struct DiscoverySessionCountersTests {
    @Test func browseCountersListTheNonZeroCountsByReason() {
        var counters = MDNSBrowseSession.Counters()
        #expect(counters.description == "nothing counted")
        counters.responses = 1_204
        counters.malformed = 3
        counters.typesRefused = 99_000
        counters.typeLimit = 1_024
        counters.recordsEvictedBySourceQuota = 12
        counters.recordsSkipped = 2
        #expect(
            counters.description
                == "1204 responses, 3 malformed, 2 records skipped, 99000 types refused (limit 1024), "
                + "12 records evicted (source quota)"
        )
    }

    @Test func aNewBrowseSessionNamesItsLimits() {
        let session = MDNSBrowseSession(
            family: .inet,
            types: nil,
            interfaces: [1],
            startingAt: .zero,
            firstDelay: .milliseconds(20)
        )
        #expect(session.counters.typeLimit == 1_024 && session.counters.instanceLimit == 1_024)
        #expect(session.counters.description == "nothing counted")
    }

    @Test func searchAndAnnounceCountersListTheNonZeroCountsByReason() {
        var search = SSDPSearchSession.Counters()
        search.responses = 4
        search.oversized = 2
        search.evicted = 128
        #expect(search.description == "4 responses, 2 oversized, 128 advertisements evicted")
        var announce = MDNSAnnounceSession.Counters()
        announce.queries = 40
        announce.conflicts = 1
        #expect(announce.description == "40 queries, 1 conflicts (renamed)")
        var ssdp = SSDPAnnounceSession.Counters()
        ssdp.searchesAnswered = 12
        ssdp.offLink = 1
        #expect(ssdp.description == "12 searches answered, 1 off link")
    }
}
