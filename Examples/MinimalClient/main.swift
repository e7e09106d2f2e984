// The tutorial's minimal client: send one datagram, wait at most 2 seconds for the reply.
// usage: example-client [HOST:PORT] [MESSAGE]        (default localhost:9999 hello)
import UDP
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func main() throws {
    let arguments = CommandLine.arguments.dropFirst()
    let server = try SocketAddress(resolving: arguments.first ?? "localhost:9999", family: .inet)  // no v4/v6 surprise
    let message = arguments.dropFirst().first ?? "hello"

    let socket = try UDPSocket(family: .inet)
    try socket.setReceiveTimeout(.seconds(2))  // always set a client timeout: a lost datagram never comes
    try socket.send(Array(message.utf8), to: server)

    let reply = Result { () throws(UDPError) in try socket.receive() }
    switch reply {
    case .success(let datagram):
        print(String(decoding: datagram.payload, as: UTF8.self))
    case .failure(let error) where error.code == .timedOut:
        print("no reply within 2 seconds")
    case .failure(let error):
        print("error: \(error)")
    }
}

do {
    try main()
} catch {
    print("error: \(error)")  // one line, never a crash: bad address, port in use, ...
    exit(1)
}
