import FuzzDriver
import FuzzMachine
import UDP
import UDPDiscovery
import UDPPatterns

/// The script's datagrams and errors spread over all the sockets of the machine it wraps (by the payload's
/// length, which the input chooses), where ``MachineScript`` uses socket 0 alone; and every datagram the machine
/// gives checked against the socket it leaves by.
struct Spread<Machine: DatagramMachine>: DatagramMachine {
    var machine: Machine
    let socketCount: Int
    /// Where each socket's datagrams go: the group a discovery session on it sends to.
    let groups: [IPAddress?]
    var datagrams = 0
    var sent = 0

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        var spread = datagram
        spread.socket = datagram.payload.count % socketCount
        datagrams += 1
        machine.handleDatagram(spread, at: now)
    }

    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        machine.handleDeliveryError(error, socket: error.quotedPayload.count % socketCount, at: now)
    }

    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        if case .sent = report { sent += 1 }
        machine.handleSendReport(report, at: now)
    }

    mutating func handleTimeout(at now: MonotonicInstant) { machine.handleTimeout(at: now) }

    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        guard let datagram = machine.pollTransmit(at: now) else { return nil }
        guard groups.indices.contains(datagram.socket), datagram.destination.ip == groups[datagram.socket] else {
            fatalError("a datagram to \(datagram.destination) left by socket \(datagram.socket)")
        }
        return datagram
    }

    mutating func pollEvent() -> Machine.Event? { machine.pollEvent() }
    var nextDeadline: MonotonicInstant? { machine.nextDeadline }
    var isFinished: Bool { machine.isFinished }
}

// `udp discover --all`'s machine, both families: the mDNS sessions on sockets 0 and 1, the SSDP ones on 2-3 and
// 4-5, played a script of datagrams and errors spread over the six, and time. Never a crash; every datagram
// reaches one member and every send report the member that sent it; each member's queries leave by its own
// socket to its own group; the group's deadline is the earliest member's, never in the past; every member's
// events stay bounded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let origin = MonotonicInstant(nanoseconds: 1_000_000_000)
    let mdns = MachineGroup(
        [AddressFamily.inet, .inet6].map { family in
            CountingMachine(
                MDNSBrowseSession(
                    family: family,
                    types: nil,
                    interfaces: [1, 2],
                    startingAt: origin,
                    firstDelay: .milliseconds(20),
                    maximumRecords: 64,
                    maximumTypes: 8,
                    maximumInstances: 16
                )
            )
        }
    )
    let ssdp = MachineGroup(
        [AddressFamily.inet, .inet6].map { family in
            CountingMachine(
                SSDPSearchSession(
                    family: family,
                    target: "ssdp:all",
                    interfaces: [1, 2],
                    startingAt: origin,
                    firstDelay: .milliseconds(50),
                    capacity: 16,
                    maximumBytes: 8_192
                )
            )
        },
        socketsPerMember: SSDPSearchSession.socketCount
    )
    var machine = Spread(
        machine: MachinePair(mdns, ssdp, firstSocketCount: mdns.socketCount),
        socketCount: mdns.socketCount + ssdp.socketCount,
        groups: [
            MDNSBrowseSession.groupV4, MDNSBrowseSession.groupV6, SSDPSearchSession.groupV4, nil,
            SSDPSearchSession.groupV6, nil,
        ]
    )
    let script = MachineScript(
        peers: [
            SocketAddress(.v4(IPv4Address(198, 18, 0, 2)), port: 5353),
            SocketAddress(.v4(IPv4Address(198, 18, 0, 3)), port: 1900),
            SocketAddress(.v6(IPv6Address("fe80::2")!), port: 5353),
        ],
        interfaces: [1, 3],
        group: MDNSBrowseSession.groupV4
    )
    script.play(bytes, on: &machine) { machine, now in
        let mdns = machine.machine.first.members
        let ssdp = machine.machine.second.members
        let datagrams = mdns.reduce(0) { $0 + $1.datagrams } + ssdp.reduce(0) { $0 + $1.datagrams }
        let sent = mdns.reduce(0) { $0 + $1.sent } + ssdp.reduce(0) { $0 + $1.sent }
        guard datagrams == machine.datagrams, sent == machine.sent else {
            fatalError(
                "\(datagrams) of \(machine.datagrams) datagrams, \(sent) of \(machine.sent) sends reached a member"
            )
        }
        guard mdns.allSatisfy({ $0.machine.pendingEventCount <= MDNSBrowseSession.maximumPendingEvents }),
            ssdp.allSatisfy({ $0.machine.pendingEventCount <= SSDPSearchSession.maximumPendingEvents })
        else { fatalError("events grew past their bound") }
        let earliest = (mdns.compactMap(\.nextDeadline) + ssdp.compactMap(\.nextDeadline)).min()
        guard machine.nextDeadline == earliest else { fatalError("the deadline is not the earliest member's") }
        if let deadline = machine.nextDeadline, deadline <= now { fatalError("a deadline in the past: \(deadline)") }
    }
    return 0
}

@_cdecl("FuzzMachineGroup_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
