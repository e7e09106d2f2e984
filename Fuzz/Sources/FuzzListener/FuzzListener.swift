import FuzzDriver
import FuzzMachine
import UDP
import UDPPatterns
import UDPTools

/// The listener, with what it was handed counted beside it, so the check can add its counts up.
struct CountedListener: DatagramMachine {
    var listener = Listener(maximumPeers: 8, bufferSize: 64)
    var datagrams = 0
    var bytes = 0

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        datagrams += 1
        bytes += datagram.info.length
        listener.handleDatagram(datagram, at: now)
    }
    mutating func handleTimeout(at now: MonotonicInstant) { listener.handleTimeout(at: now) }
    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? { listener.pollTransmit(at: now) }
    mutating func pollEvent() -> Listener.Event? { listener.pollEvent() }
    var nextDeadline: MonotonicInstant? { listener.nextDeadline }
}

// Datagrams from forty sources (truncated or not) into a listener that keeps eight: it never sends, never holds
// more than eight peers, and its counts add up to what it was handed, evicted peers included.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let peers = (0..<40).map { SocketAddress(IPAddress.v4(IPv4Address(198, 18, 0, UInt8($0))), port: 4000) }
    var machine = CountedListener()
    MachineScript(peers: peers).play(bytes, on: &machine) { machine, _ in
        let table = machine.listener.peers
        guard table.entries.count <= table.capacity else { fatalError("\(table.entries.count) peers kept") }
        guard table.totalDatagrams == machine.datagrams else {
            fatalError("\(table.totalDatagrams) datagrams counted of \(machine.datagrams)")
        }
        let counted = table.entries.values.reduce(table.evicted.bytes) { $0 + $1.bytes }
        guard counted == machine.bytes else { fatalError("\(counted) bytes counted of \(machine.bytes)") }
        guard table.entries.values.allSatisfy({ $0.datagrams > 0 }) else { fatalError("an empty entry") }
        guard machine.listener.pendingEvents == 0, machine.listener.droppedEvents == 0 else {
            fatalError("events left behind")
        }
        guard machine.listener.nextDeadline == nil else { fatalError("a listener with a timer") }
    }
    return 0
}

@_cdecl("FuzzListener_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
