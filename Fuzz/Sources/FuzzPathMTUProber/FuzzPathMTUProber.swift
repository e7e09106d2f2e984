import FuzzDriver
import FuzzMachine
import UDP
import UDPTools

// The path-MTU prober against a script of echoes (true or forged), ICMP errors quoting the last probe, and time:
// it never crashes, never probes outside its range, and its search ends within its bounds: every probe
// counted, at most three tries a size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let server = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 2, 2)), port: 7)
    let router = SocketAddress(IPAddress.v4(IPv4Address(198, 18, 1, 1)), port: 7)
    var prober = PathMTUProber(destination: server, range: 548...1472, timeout: .seconds(1), runID: 0x5544)
    var events = 0
    MachineScript(peers: [server, router]).play(bytes, on: &prober) { prober, _ in
        events += 1
        // Sizes halve at worst, each tried three times: a search of this range ends well within this.
        guard prober.search.probes <= 3 * 64 else { fatalError("\(prober.search.probes) probes") }
        if let result = prober.search.result {
            guard (548...1472).contains(result.udpPayload) else { fatalError("result \(result) out of range") }
        }
        if let size = prober.search.nextSize, !(548...1472).contains(size) { fatalError("probing \(size)") }
    }
    return 0
}

@_cdecl("FuzzPathMTUProber_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
