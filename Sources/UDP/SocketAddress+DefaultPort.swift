extension SocketAddress {
    /// Parses `host`, `host:port`, a bare IPv6 address or `[ipv6]:port` as ``init(resolving:family:)`` does, with
    /// `defaultPort` where the text names none: how a client of a well-known service takes its server
    /// (`pool.example 123`, `fd75::2` as `[fd75::2]:123`).
    ///
    /// - Parameters:
    ///   - text: The server as written.
    ///   - defaultPort: The service's port, used unless the text names one.
    ///   - family: Resolve a host name to this family only; both, IPv4 first, when nil.
    /// - Throws: `UDPError` as ``init(resolving:family:)`` does.
    public init(resolving text: String, defaultPort: UInt16, family: AddressFamily? = nil) throws(UDPError) {
        try self.init(resolving: Self.addingPort(defaultPort, to: text), family: family)
    }

    /// `text` with `:port` added when it names no port: `[::1]` and `host` gain one, a bare IPv6 address is
    /// bracketed first (its colons are its own), `host:9` and `[::1]:9` stay as they are.
    static func addingPort(_ port: UInt16, to text: String) -> String {
        if text.hasPrefix("[") { return text.contains("]:") ? text : text + ":\(port)" }
        switch text.filter({ $0 == ":" }).count {
        case 0: return text + ":\(port)"
        case 1: return text
        default: return "[\(text)]:\(port)"
        }
    }
}
