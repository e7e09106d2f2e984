import UDP

/// A datagram a ``DatagramMachine`` asks its driver to send.
public struct OutboundDatagram: Sendable, Hashable {
    /// The bytes.
    public var payload: [UInt8]
    /// Where to: a peer, or a group.
    public var destination: SocketAddress
    /// The local address to send from (an answer leaves from the address its question came to); nil leaves it
    /// to routing.
    public var source: IPAddress?
    /// The interface to send on: for a group, the interface it goes out of; for an IPv6 link-local source, its
    /// interface. Nil leaves it to routing.
    public var interfaceIndex: UInt32?
    /// Which of the driver's sockets sends it, from 0.
    public var socket: Int

    /// A datagram to send to `destination`.
    public init(
        _ payload: [UInt8],
        to destination: SocketAddress,
        from source: IPAddress? = nil,
        interfaceIndex: UInt32? = nil,
        socket: Int = 0
    ) {
        self.payload = payload
        self.destination = destination
        self.source = source
        self.interfaceIndex = interfaceIndex
        self.socket = socket
    }
}
