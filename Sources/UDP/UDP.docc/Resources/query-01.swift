// The tutorial's query(): retry an idempotent request with exponential backoff, then give up clearly.
// usage: example-query [HOST:PORT] [MESSAGE]        (default localhost:9999 ping)
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct NoReply: Error, CustomStringConvertible {
    var attempts: Int
    var description: String { "no reply after \(attempts) attempts" }
}

/// Sends `request` and waits for the reply, once.
func query(
    _ request: [UInt8],
    to server: SocketAddress,
    using socket: borrowing UDPSocket,
    timeout: Duration = .milliseconds(500)
) throws -> [UInt8] {
    try socket.send(request, to: server)
    if let reply = try socket.receive(timeout: timeout) { return reply.payload }
    throw NoReply(attempts: 1)
}

func main() throws {
    let arguments = CommandLine.arguments.dropFirst()
    let server = try SocketAddress(resolving: arguments.first ?? "localhost:9999", family: .inet)
    let socket = try UDPSocket(family: server.family)
    let reply = try query(Array((arguments.dropFirst().first ?? "ping").utf8), to: server, using: socket)
    print(String(decoding: reply, as: UTF8.self))
}

do {
    try main()
} catch {
    print("error: \(error)")  // one line, never a crash: bad address, port in use, ...
    exit(1)
}
