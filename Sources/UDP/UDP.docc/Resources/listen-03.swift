// The tutorial's multi-peer receive loop: one socket serves every peer; count each peer's datagrams.
// usage: example-listen [PORT] [COUNT]        (default 9999, stop after 10 datagrams)
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func main() throws {
    let arguments = CommandLine.arguments.dropFirst()
    let port = arguments.first.flatMap { UInt16($0) } ?? 9999
    let limit = arguments.dropFirst().first.flatMap { Int($0) } ?? 10

    let socket = try UDPSocket(bindingTo: SocketAddress(IPv4Address.any, port: port))
    print("listening on udp/\(try socket.localAddress.port)")

    var counts: [SocketAddress: Int] = [:]  // bounded by `limit` here; see `udp listen --max-peers`
    for _ in 0..<limit {
        let datagram = try socket.receive(maximumSize: 2048)
        counts[datagram.sender, default: 0] += 1
        let note = datagram.isTruncated ? " (truncated from \(datagram.length) bytes)" : ""
        print("from \(datagram.sender) #\(counts[datagram.sender]!): \(datagram.payload.count) bytes\(note)")
    }
    for (peer, count) in counts.sorted(by: { $0.value > $1.value }) { print("\(peer): \(count)") }
}

do {
    try main()
} catch {
    print("error: \(error)")  // one line, never a crash: bad address, port in use, ...
    exit(1)
}
