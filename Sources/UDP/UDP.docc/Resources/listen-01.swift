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

    for _ in 0..<limit {
        let datagram = try socket.receive(maximumSize: 2048)
        print("from \(datagram.sender): \(datagram.payload.count) bytes")
    }
}

do {
    try main()
} catch {
    print("error: \(error)")  // one line, never a crash: bad address, port in use, ...
    exit(1)
}
