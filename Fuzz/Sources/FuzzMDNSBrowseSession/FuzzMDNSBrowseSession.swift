import FuzzDriver
import FuzzMachine
import UDP
import UDPDiscovery
import UDPPatterns

// The machine behind `udp discover`, played a script of datagrams (from port 5353 and from elsewhere, hop
// limit 255 or 1, on an interface browsed or not), errors and time: never a crash, every bound of every
// interface's cache and browser holds after every step, the deadline is never in the past, and every datagram
// is counted once, by what became of it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    var machine = CountingMachine(
        MDNSBrowseSession(
            family: .inet,
            types: nil,
            interfaces: [1, 2],
            startingAt: LinkFixture.start,
            firstDelay: .milliseconds(20),
            maximumRecords: 64,
            maximumTypes: 8,
            maximumInstances: 16
        )
    )
    let script = LinkFixture.script(
        peers: [
            SocketAddress(.v4(IPv4Address(198, 18, 0, 2)), port: 5353),
            SocketAddress(.v4(IPv4Address(198, 18, 0, 3)), port: 5353),
            SocketAddress(.v4(IPv4Address(198, 18, 0, 4)), port: 5354),
        ],
        group: MDNSBrowseSession.groupV4
    )
    script.play(bytes, on: &machine) { machine, now in
        let session = machine.machine
        for interface in session.interfaces {
            guard let cache = session.caches[interface], let browser = session.browsers[interface] else {
                fatalError("interface \(interface) lost its cache or browser")
            }
            guard cache.entries.count <= cache.maximumRecords, cache.bytes <= cache.maximumBytes,
                browser.typeCount <= browser.maximumTypes, browser.typeBytes <= browser.maximumTypeBytes,
                browser.instances.count <= browser.maximumInstances,
                browser.instanceBytes <= browser.maximumInstanceBytes
            else { fatalError("a bound was passed on interface \(interface)") }
        }
        let counters = session.counters
        machine.checkCounters(
            counters,
            addUp: counters.offLink == counters.offLinkByReason.values.reduce(0, +),
            counters.responses + counters.queries + counters.malformed + counters.offLink == machine.datagrams,
            counters.queriesSent <= machine.sent
        )
        guard session.pendingEventCount <= MDNSBrowseSession.maximumPendingEvents else {
            fatalError("events grew past their bound")
        }
        checkDeadlineNotPast(machine, at: now)
    }
    return 0
}

@_cdecl("FuzzMDNSBrowseSession_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
