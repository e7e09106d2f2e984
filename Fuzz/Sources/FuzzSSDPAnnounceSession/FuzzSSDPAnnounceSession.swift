import FuzzDriver
import FuzzMachine
import UDP
import UDPDiscovery
import UDPPatterns

// The machine behind `udp announce --ssdp`, played a script of M-SEARCHes and other messages (to the group or
// not, from the interface's network or off it, on an interface advertised on or not), errors and time: never a
// crash, no responder holds more than its bound of waiting answers, every datagram is counted at most once, and
// no deadline is left in the past.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    var machine = CountingMachine(
        SSDPAnnounceSession(
            family: .inet,
            advertisements: SSDPResponder.advertisements(
                uuid: "1234",
                type: "urn:schemas-upnp-org:device:MediaServer:2",
                location: "http://198.18.0.1/desc.xml",
                server: "Linux UPnP/1.1 fuzz/1",
                maximumAge: 1800
            ),
            interfaces: LinkFixture.interfaces,
            at: LinkFixture.start,
            addresses: { LinkFixture.interfaces },
            random: SeededGenerator(seed: UInt64(count))
        )
    )
    let script = LinkFixture.script(
        peers: [
            SocketAddress(.v4(IPv4Address(198, 18, 0, 2)), port: 40_000),
            SocketAddress(.v4(IPv4Address(198, 19, 0, 3)), port: 1900),
            SocketAddress(.v6(IPv6Address("fe80::4")!), port: 50_000),
            SocketAddress(.v4(IPv4Address(198, 18, 0, 5)), port: 1900),
        ],
        group: SSDPAnnounceSession.group(.inet).ip
    )
    script.play(bytes, on: &machine) { machine, now in
        let session = machine.machine
        for (index, responder) in session.responders where responder.pendingAnswers > SSDPResponder.maximumPending {
            fatalError("answers waiting on interface \(index) passed their bound")
        }
        let counters = session.counters
        // A search repeated while its answer waits is answered once and counted in none of them: at most.
        let counted =
            counters.searchesAnswered + counters.searchesIgnored + counters.searchesDropped + counters.malformed
            + counters.oversized + counters.offLink + counters.ignored
        guard counted <= machine.datagrams else {
            fatalError("the counters count more than arrived: \(counters), \(machine.datagrams) datagrams")
        }
        checkDeadlineNotPast(machine, at: now, allowingNow: true)
    }
    return 0
}

@_cdecl("FuzzSSDPAnnounceSession_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
