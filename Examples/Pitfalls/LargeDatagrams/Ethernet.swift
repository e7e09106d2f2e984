import UDP

/// Fragmentation where it happens: across a 1500-byte link, here between two network namespaces (root only).
func showFragmentationOverEthernet() throws {
    print("")
    print("where fragmentation happens: a 1500-byte link, between two network namespaces")
    if let reason = NamespacePair.unavailableReason {
        print("  skipped: \(reason). As root, this part")
        print("    creates two namespaces joined by a veth with MTU 1500 (198.18.0.1 and 198.18.0.2),")
        print("    shows 4000 bytes leave as 3 IP fragments and 65507 bytes as 45,")
        print("    EMSGSIZE for 4000 bytes with Don't Fragment (path MTU 1500: 1472 bytes at most),")
        print("    the 64 KiB message as 45 datagrams of 1472 bytes and no fragment at all,")
        print("    and deletes the namespaces.")
        return
    }
    let pair = NamespacePair()
    defer { print(pair.delete() ? "  namespaces deleted" : "  could not delete \(pair.sender) and \(pair.receiver)") }
    try pair.create()
    print(
        "  created \(pair.sender) (\(NamespacePair.senderIP)) and \(pair.receiver) (\(NamespacePair.receiverIP)), "
            + "a veth with MTU 1500 between them"
    )
    let receiver = try pair.inside(pair.receiver) {
        try UDPSocket(bindingTo: SocketAddress(NamespacePair.receiverIP, port: 0))
    }
    let destination = try receiver.localAddress
    let sender = try pair.inside(pair.sender) {
        let socket = try UDPSocket(family: .inet)
        try socket.connect(to: destination)
        return socket
    }
    print(
        "  sender connected to \(destination): pathMTU \(try sender.pathMTU), so \(ethernetPayload) bytes fit one datagram"
    )
    let fragmentsMade = { try pair.ipCounter("FragCreates", in: pair.sender) }

    for size in [4000, 65_507] {
        let before = try fragmentsMade()
        try sender.send(message[..<size])  // Linux's default for UDP fragments what exceeds the path MTU
        let arrived = try receiver.receive(maximumSize: 65_535, timeout: .seconds(2))
        print(
            "  problem: \(size) bytes with the default settings left as \(try fragmentsMade() - before) IP fragments; "
                + "\(arrived?.payload.count ?? 0) bytes arrived after reassembly"
        )
    }
    print("    each fragment is a packet the network may drop; if one is lost the receiver drops all the others")

    try sender.setPathMTUDiscovery(.do)
    do {
        try sender.send(message[..<4000])
        print("  problem: 4000 bytes with Don't Fragment: unexpectedly sent")
    } catch {
        print("  problem: 4000 bytes with Don't Fragment: \(error) (\(errnoName(error)))")
    }

    let before = try fragmentsMade()
    let (datagrams, reassembled) = try sendInChunks(message, limit: ethernetPayload, from: sender, to: receiver)
    print(
        "  fix: the 65536 bytes as \(datagrams) datagrams of at most \(ethernetPayload) bytes with Don't Fragment: "
            + "\(try fragmentsMade() - before) IP fragments, reassembled identical: \(reassembled == message)"
    )
}
