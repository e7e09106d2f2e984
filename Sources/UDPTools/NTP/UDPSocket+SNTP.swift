import UDP

extension UDPSocket {
    /// A socket for asking the NTP server `server` (an `SNTPProbe`'s): its family, a random ephemeral port,
    /// unconnected so that a reply from elsewhere is seen and counted rather than silently dropped, with the
    /// error queue on so that ICMP errors come as typed events, each judged by what it quotes.
    public static func sntpClient(for server: SocketAddress) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket(family: server.family)
        try socket.bind(to: .any(server.family, port: 0))
        try? socket.setReceiveErrors(true)
        return socket
    }
}
