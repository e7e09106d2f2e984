// Pitfall 8: binding on the client.
//
// A server binds a port that its clients know. A client needs no fixed port: the kernel gives it a free one on
// its first send, and the server answers whatever port a request came from. A client that binds a fixed port,
// copied from a server, cannot run twice on one host. This program shows that clash, then the client that lets
// the kernel choose, without bind() or with a bind to port 0, the explicit form.
// usage: pitfall-client-bind        (loopback only; under a second)
import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Answers one request with "ack: " and the request, as the tutorial's server does.
func answerOne(on server: borrowing UDPSocket) throws {
    guard let request = try server.receive(maximumSize: 2048, timeout: .seconds(2)) else { return }
    try server.send(Array("ack: ".utf8) + request.payload, to: request.sender)
}

/// Sends "hello" from `client`, lets the server answer, and says what came back to which port.
func roundTrip(_ name: String, _ client: borrowing UDPSocket, server: borrowing UDPSocket) throws {
    try client.send(Array("hello".utf8), to: try server.localAddress)
    try answerOne(on: server)
    guard let reply = try client.receive(maximumSize: 2048, timeout: .seconds(2)) else {
        print("  \(name): no reply within 2 s")
        exit(1)
    }
    print("  \(name) at \(try client.localAddress): reply \"\(String(decoding: reply.payload, as: UTF8.self))\"")
}

func main() throws {
    print("pitfall 8: binding on the client")
    let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))

    print("")
    print("problem: a client that binds a fixed port, copied from a server, can run only once on a host")
    // The first copy binds port 0 and reads back the port it got: it stands for the fixed number such a
    // client has in its code (9999, say), without the risk of meeting a real service on it here.
    let first = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let fixed = try first.localAddress
    print("  first copy: bind(\(fixed)) succeeded")
    do {
        let second = try UDPSocket(bindingTo: fixed)
        print("  second copy: bind(\(try second.localAddress)) unexpectedly succeeded")
        exit(1)
    } catch {
        print("  second copy: \(error)")
    }
    print("  (and once the first copy exits, a late reply to it reaches whichever program binds that port next)")

    print("")
    print("fix: let the kernel choose the client's port: no bind() at all, or bind to port 0 to say so")
    let unbound = try UDPSocket(family: .inet)
    print("  client without bind(): local address \(try unbound.localAddress) until its first send")
    try roundTrip("client without bind()", unbound, server: server)
    let a = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let b = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    print("  two clients bound to 127.0.0.1:0 side by side: \(try a.localAddress) and \(try b.localAddress)")
    try roundTrip("client a", a, server: server)
    try roundTrip("client b", b, server: server)
    print("  bind port 0 when the port must be known before the first send (to tell a peer, or to print it),")
    print("  or to choose the local address; read the port back from localAddress")
}

do {
    try main()
} catch {
    print("error: \(error)")
    exit(1)
}
