import FuzzDriver
import FuzzMachine
import UDP
import UDPDiscovery
import UDPPatterns

// The SSDP machine behind `udp discover --ssdp`, played a script of datagrams (responses, NOTIFYs, searches,
// garbage, on an interface searched or not), errors and time: never a crash, every interface's table within
// its bounds after every step, the deadline never in the past, and every datagram counted once.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    var machine = CountingMachine(
        SSDPSearchSession(
            family: .inet,
            target: "ssdp:all",
            maximumWait: 2,
            interfaces: [1, 2],
            startingAt: LinkFixture.start,
            firstDelay: .milliseconds(50),
            capacity: 16,
            maximumBytes: 8_192
        )
    )
    let script = LinkFixture.script(
        peers: [
            SocketAddress(.v4(IPv4Address(198, 18, 0, 2)), port: 49_152),
            SocketAddress(.v4(IPv4Address(198, 18, 0, 3)), port: 1900),
        ],
        group: SSDPSearchSession.groupV4
    )
    script.play(bytes, on: &machine) { machine, now in
        let session = machine.machine
        for interface in session.interfaces {
            guard let browser = session.browsers[interface] else { fatalError("interface \(interface) lost its table") }
            guard browser.advertisements.count <= browser.capacity, browser.bytes <= browser.maximumBytes,
                browser.bytes == browser.advertisements.reduce(0, { $0 + SSDPBrowser.size(of: $1) })
            else { fatalError("a bound was passed on interface \(interface)") }
        }
        let counters = session.counters
        let parsed = counters.responses + counters.notifications
        machine.checkCounters(
            counters,
            addUp: parsed + counters.searches + counters.malformed + counters.oversized == machine.datagrams,
            counters.otherInterface <= parsed,
            counters.searchesSent <= machine.sent
        )
        guard session.pendingEventCount <= SSDPSearchSession.maximumPendingEvents else {
            fatalError("events grew past their bound")
        }
        checkDeadlineNotPast(machine, at: now)
    }
    return 0
}

@_cdecl("FuzzSSDPSearchSession_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
