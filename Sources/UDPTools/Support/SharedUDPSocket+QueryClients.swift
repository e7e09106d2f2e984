import UDP

extension SharedUDPSocket {
    /// Sockets for queries to `server`, one per try or per probe slot, each bound to a port of the kernel's
    /// choosing (RFC 5452: a new source port per query makes a forged reply harder to land) and reading its
    /// error queue, so that the ICMP error for a query names who refused it.
    ///
    /// - Parameters:
    ///   - count: How many sockets.
    ///   - server: Where the queries go; the sockets are of its family.
    public static func queryClients(_ count: Int, for server: SocketAddress) throws(UDPError) -> [SharedUDPSocket] {
        var sockets: [SharedUDPSocket] = []
        for _ in 0..<count {
            let socket = SharedUDPSocket(try UDPSocket(bindingTo: .any(server.family)))
            // Without the error queue a refused query only times out: worth trying, not worth failing over.
            try? socket.socket.setReceiveErrors(true)
            sockets.append(socket)
        }
        return sockets
    }
}
