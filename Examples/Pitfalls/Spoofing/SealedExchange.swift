import UDP
import UDPSeal

/// The same exchange with sealed datagrams, attacked every way the impostor can: plain text, a key of its own,
/// a forged source address (as root), a captured reply sent again, and the client's own request sent back.
func showSealedExchange(
    server: borrowing UDPSocket,
    client: borrowing UDPSocket,
    impostor: borrowing UDPSocket,
    serverAddress: SocketAddress,
    clientAddress: SocketAddress
) throws {
    // In practice both ends read the key from a file (`udp keygen --output FILE`, then --key-file).
    let key = SealKey.generate()
    var clientSealer = Sealer(key: key, direction: .request)
    var clientOpener = Opener(keys: [key], accepting: .reply)  // a client opens replies only
    var serverSealer = Sealer(key: key, direction: .reply)
    var serverOpener = Opener(keys: [key], accepting: .request)

    let request = clientSealer.seal(Array("balance?".utf8))
    try client.send(request, to: serverAddress)
    print("  client: sent \"balance?\" sealed (\(request.count) bytes: \(SealedEnvelope.overhead) more than the text)")

    // The impostor is quicker again, with everything it can make without the key.
    try impostor.send(Array("balance: 1000000".utf8), to: clientAddress)
    var guessed = Sealer(key: SealKey.generate(id: key.id), direction: .reply)
    try impostor.send(guessed.seal(Array("balance: 1000000".utf8)), to: clientAddress)
    var attempts = 2
    if try sendForged(Array("balance: 0".utf8), from: serverAddress, to: clientAddress) { attempts += 1 }

    let sealedRequest = try next(on: server)
    let opened = try serverOpener.open(sealedRequest.payload)
    let reply = serverSealer.seal(Array("balance: 42".utf8))
    try server.send(reply, to: sealedRequest.sender)
    print("  server: opened \"\(text(opened.payload))\", answered sealed")

    // What an attacker who saw the exchange on the wire can still try: send it again, or send it back.
    try impostor.send(reply, to: clientAddress)
    try impostor.send(request, to: clientAddress)

    let descriptions = [
        "plain text from the impostor", "sealed by the impostor with a key of its own",
        "plain text forged with the server's address", "the server's reply", "the server's reply, sent again",
        "the client's own request, sent back to it",
    ]
    let expected = descriptions.enumerated().filter { attempts == 3 || $0.offset != 2 }.map(\.element)
    for what in expected {
        let datagram = try next(on: client)
        do {
            let payload = try clientOpener.open(datagram.payload).payload
            print("  client: \(what), from \(datagram.sender): opened \"\(text(payload))\"")
        } catch {
            print("  client: \(what), from \(datagram.sender): rejected (\(error))")
        }
    }
    let counters = clientOpener.counters
    print("  client: \(counters.opened) opened, \(counters.rejected) rejected, whatever their source address")
}
