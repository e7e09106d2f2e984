extension SocketAddress {
    /// Whether this address — where a datagram came from, or where the datagram an ICMP error quotes went — is
    /// `peer`: the same address and port; a scope (link-local IPv6) only where `peer` names one; and an IPv4 peer
    /// the same whether a dual-stack socket shows it v4-mapped or not. How a client tells its server's answers
    /// from anyone else's (who can still forge the address: authenticate what matters).
    ///
    /// ```swift
    /// let server = try SocketAddress(parsing: "127.0.0.1:53")
    /// try SocketAddress(parsing: "[::ffff:127.0.0.1]:53").isSameEndpoint(as: server)   // true
    /// ```
    public func isSameEndpoint(as peer: SocketAddress) -> Bool {
        switch (unmapped, peer.unmapped) {
        case (.v4(let a), .v4(let b)):
            a.ip == b.ip && a.port == b.port
        case (.v6(let a), .v6(let b)):
            a.ip == b.ip && a.port == b.port && (b.scopeID == 0 || a.scopeID == b.scopeID)
        default:
            false
        }
    }
}
