// The tutorial's minimal server: bind, then answer every datagram with "ack: " + payload.
// usage: example-server [PORT]        (default 9999; 0 lets the kernel pick)
import UDP

func main() throws {
    let port = CommandLine.arguments.dropFirst().first.flatMap { UInt16($0) } ?? 9999
    let socket = try UDPSocket(bindingTo: SocketAddress(IPv4Address.any, port: port))
    print("listening on udp/\(try socket.localAddress.port)")

    while true {
        let datagram = try socket.receive(maximumSize: 65_535)  // reports truncation; never cuts silently
        print("received \(datagram.payload.count) bytes from \(datagram.sender)")
    }
}

try main()
