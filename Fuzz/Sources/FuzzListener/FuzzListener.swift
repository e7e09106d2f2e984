import FuzzDriver
import FuzzMachine
import UDP
import UDPPatterns
import UDPTools

// Datagrams from forty sources (truncated or not) into a listener that keeps eight: it never sends, never holds
// more than eight peers, and its counts add up to what it was handed, evicted peers included.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let peers = (0..<40).map { SocketAddress(IPAddress.v4(IPv4Address(198, 18, 0, UInt8($0))), port: 4000) }
    var machine = CountingMachine(Listener(maximumPeers: 8, bufferSize: 64))
    MachineScript(peers: peers).play(bytes, on: &machine) { machine, _ in
        let table = machine.machine.peers
        guard table.entries.count <= table.capacity else { fatalError("\(table.entries.count) peers kept") }
        guard table.totalDatagrams == machine.datagrams else {
            fatalError("\(table.totalDatagrams) datagrams counted of \(machine.datagrams)")
        }
        let counted = table.entries.values.reduce(table.evicted.bytes) { $0 + $1.bytes }
        guard counted == machine.bytes else { fatalError("\(counted) bytes counted of \(machine.bytes)") }
        guard table.entries.values.allSatisfy({ $0.datagrams > 0 }) else { fatalError("an empty entry") }
        guard machine.machine.pendingEvents == 0, machine.machine.droppedEvents == 0 else {
            fatalError("events left behind")
        }
        guard machine.machine.nextDeadline == nil else { fatalError("a listener with a timer") }
    }
    return 0
}

@_cdecl("FuzzListener_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
