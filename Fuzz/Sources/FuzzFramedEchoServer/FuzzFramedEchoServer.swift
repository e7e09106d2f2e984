import FuzzDriver
import FuzzMachine
import UDP
import UDPTools

// The framed echo against a script of requests (framed or not, retried or new, from two peers), ICMP errors and
// time: it never crashes, every datagram is answered or counted by reason, its queues and cache stay within
// their bounds, and its report deadline is always ahead.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let peers = [
        SocketAddress(IPAddress.v4(IPv4Address(198, 18, 0, 2)), port: 40_000),
        SocketAddress(IPAddress("fe80::2")!, port: 40_001),
    ]
    var server = FramedEchoServer(
        prefix: Array("ack: ".utf8),
        timeToLive: .seconds(2),
        reportInterval: .milliseconds(250),
        start: MonotonicInstant(nanoseconds: 1_000_000_000)
    )
    MachineScript(peers: peers).play(bytes, on: &server) { server, now in
        let counters = server.counters
        // The script sends every reply it is given and reports it sent: nothing is left in between.
        guard server.queuedReplies == 0, server.repliesInFlight == 0 else { fatalError("replies left behind") }
        guard counters.received == counters.replied + counters.failed else { fatalError("\(counters) do not add up") }
        guard counters.failed == server.drops.values.reduce(0, +) else { fatalError("drops \(server.drops)") }
        guard server.cachedReplies <= 4096, server.queuedEvents <= FramedEchoServer.queueLimit else {
            fatalError("cache \(server.cachedReplies), events \(server.queuedEvents)")
        }
        // Every reply made was sent, or dropped after it was made; every datagram not framed was counted so.
        let cache = server.cacheCounters
        let dropped = server.drops[.queueFull, default: 0] + server.drops[.sendFailed, default: 0]
        guard cache.handled + cache.servedFromCache == counters.replied + dropped,
            server.drops[.notFramed] == cache.malformed + cache.unsendable
        else { fatalError("\(cache) vs \(counters), \(server.drops)") }
        if let due = server.nextDeadline, due <= now { fatalError("report due at \(due), now \(now)") }
    }
    return 0
}

@_cdecl("FuzzFramedEchoServer_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
