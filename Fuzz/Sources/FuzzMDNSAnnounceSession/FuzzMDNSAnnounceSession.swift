import FuzzDriver
import FuzzMachine
import UDP
import UDPDNS
import UDPDiscovery
import UDPPatterns

// The machine behind `udp announce`, played a script of queries and responses (hop limit 255 or 1, from the
// interface's network or off it, from port 5353 or a one-shot client's, on an interface announced on or not),
// errors and time: never a crash, every responder's state stays within its bounds after every step, every
// datagram is counted once by what became of it, and no deadline is left in the past.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let service = MDNSService(
        instance: "Web Server",
        type: DNSName("_http._tcp.local")!,
        port: 8080,
        txt: [Array("path=/".utf8)],
        host: DNSName("box.local")!,
        addresses: []
    )
    var machine = CountingMachine(
        MDNSAnnounceSession(
            family: .inet,
            service: service,
            interfaces: LinkFixture.interfaces,
            at: LinkFixture.start,
            addresses: { LinkFixture.interfaces },
            random: SeededGenerator(seed: UInt64(count))
        )
    )
    let script = LinkFixture.script(
        peers: [
            SocketAddress(.v4(IPv4Address(198, 18, 0, 2)), port: 5353),
            SocketAddress(.v4(IPv4Address(198, 19, 0, 3)), port: 5353),
            SocketAddress(.v4(IPv4Address(198, 18, 0, 4)), port: 40_000),
        ],
        group: MDNSAnnounceSession.group(.inet).ip
    )
    script.play(bytes, on: &machine) { machine, now in
        let session = machine.machine
        for (index, responder) in session.responders {
            // The service's own records: two PTRs, SRV, TXT and one address.
            guard responder.recentConflictCount <= MDNSResponder.conflictsRemembered,
                responder.heldAnswerCount <= 5, responder.rememberedMulticastCount <= 5
            else { fatalError("a bound was passed on interface \(index)") }
        }
        let counters = session.counters
        machine.checkCounters(
            counters,
            addUp: counters.queries + counters.responses + counters.malformed + counters.offLink
                + counters.otherInterface == machine.datagrams,
            counters.conflicts + counters.defended <= counters.responses,
            counters.tieBreaksLost <= counters.queries
        )
        checkDeadlineNotPast(machine, at: now, allowingNow: true)
    }
    return 0
}

@_cdecl("FuzzMDNSAnnounceSession_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
