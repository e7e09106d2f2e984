// Pitfall 5: trusting the source address.
//
// A datagram's source address is whatever its sender wrote in the packet. UDP has no handshake, so nothing
// checks it: anyone who can send to you can claim to be your server. This program shows a client taken in by
// an impostor on the same host (and, as root, by a datagram forged with the server's exact address), then the
// fix: datagrams sealed with a key that client and server share (UDPSeal), which no impostor can make.
// usage: pitfall-spoofing        (loopback only; under a second)
import UDP
import UDPSeal

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// The next datagram for `socket`, or the end of the program: every datagram here is sent on loopback before it
/// is read, so a missing one is a bug.
func next(on socket: borrowing UDPSocket) throws -> Datagram {
    guard let datagram = try socket.receive(maximumSize: 2048, timeout: .seconds(2)) else {
        print("error: a datagram sent on loopback did not arrive within 2 s")
        exit(1)
    }
    return datagram
}

func main() throws {
    print("pitfall 5: trusting the source address")
    let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let serverAddress = try server.localAddress
    let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let clientAddress = try client.localAddress
    let impostor = try UDPSocket(bindingTo: .loopbackV4(port: 0))
    let impostorAddress = try impostor.localAddress

    print("")
    print("problem: the client believes a reply because of the address it comes from")
    print(
        "  server at \(serverAddress), client at \(clientAddress), another program on this host at \(impostorAddress)"
    )
    try client.send(Array("balance?".utf8), to: serverAddress)
    print("  client: sent \"balance?\" to the server")
    // The impostor only needs to know where the client is, and be quicker than the server.
    try impostor.send(Array("balance: 1000000".utf8), to: clientAddress)
    let fake = try next(on: client)
    let believed = fake.sender.ip == serverAddress.ip  // the client's whole check
    print(
        "  client, checking the sender's IP: \(believed ? "accepted" : "refused") \"\(text(fake.payload))\" "
            + "from \(fake.sender): the impostor shares the server's IP"
    )
    let request = try next(on: server)
    try server.send(Array("balance: 42".utf8), to: request.sender)
    let real = try next(on: client)
    print(
        "  the server's real answer, \"\(text(real.payload))\", came second: a client that takes one reply never reads it"
    )
    print("  checking the port as well is no defence: a source address is whatever the sender writes in the packet")
    if try sendForged(Array("balance: 0".utf8), from: serverAddress, to: clientAddress) {
        let forged = try next(on: client)
        print(
            "  as root, a raw socket wrote the server's address as the source of \"\(text(forged.payload))\": "
                + "the client, checking IP and port, accepted it from \(forged.sender) "
                + "(same as the server: \(forged.sender == serverAddress))"
        )
    } else {
        print("  (as root, this program forges the server's exact address with a raw socket: run it with sudo)")
    }
    print("  on a network, any host that can reach you can do the same: UDP has no handshake to catch it")

    print("")
    print("fix: seal each datagram with a key that client and server share (UDPSeal: ChaCha20-Poly1305)")
    print("  a sealed datagram opens only with the key, only once, and only in its direction; where it came")
    print("  from no longer matters")
    try showSealedExchange(
        server: server,
        client: client,
        impostor: impostor,
        serverAddress: serverAddress,
        clientAddress: clientAddress
    )
}

do {
    try main()
} catch {
    print("error: \(error)")
    exit(1)
}
