import UDP

extension UDPSocket {
    /// A socket for a client that sends to `destination` and reads the replies (``DatagramClient``,
    /// ``FramedClient``): bound to `local` when given, allowed to broadcast when `broadcast`, with the multicast
    /// hop limit and interface when given, and the kernel's receive stamps on, which tell a late reply to an
    /// earlier message (queued before this one went out). It is not connected yet: see
    /// `connectForReplies(to:)`.
    ///
    /// - Parameters:
    ///   - destination: Where the client sends; the socket is of its family.
    ///   - local: The address to send from; the kernel's choice when nil.
    ///   - broadcast: Allow sending to a broadcast address (`SO_BROADCAST`).
    ///   - multicastHops: The hop limit (TTL) of multicast datagrams.
    ///   - multicastInterface: The interface multicast datagrams leave by.
    public static func datagramClient(
        for destination: SocketAddress,
        local: SocketAddress? = nil,
        broadcast: Bool = false,
        multicastHops: Int? = nil,
        multicastInterface: MulticastInterface? = nil
    ) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket(family: destination.family)
        if let local { try socket.bind(to: local) }
        if broadcast { try socket.setBroadcast(true) }
        if let multicastHops { try socket.setMulticastHops(multicastHops) }
        if let multicastInterface { try socket.setMulticastInterface(multicastInterface) }
        // Without stamps a late reply is told apart less surely, not missed: worth trying, not worth failing over.
        try? socket.setReceiveTimestamps(true)
        return socket
    }

    /// Connects to a unicast `destination`, so that the kernel filters out strangers and reports an ICMP error
    /// such as port unreachable, and reads the error queue, which names the router or host behind a refusal or
    /// an unreachable network. Replies to a group or a broadcast come from other addresses: such a client stays
    /// unconnected.
    ///
    /// The corresponding C function is `connect(2)`, with the socket option `IP_RECVERR` / `IPV6_RECVERR`.
    public func connectForReplies(to destination: SocketAddress) throws(UDPError) {
        try connect(to: destination)
        try? setReceiveErrors(true)
    }
}
