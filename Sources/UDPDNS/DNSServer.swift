import UDP

/// The server a stub query asks, as a person names it: an IP address with an optional port (53 unless given),
/// never a name (resolving it would send a query of its own, to a server nobody named), or the system's, the
/// first nameserver of /etc/resolv.conf (``ResolvConf``).
public enum DNSServer: Equatable, Sendable {
    /// An address; `explicitPort` when the text named the port.
    case address(SocketAddress, explicitPort: Bool)
    /// /etc/resolv.conf's first nameserver, read when the query runs (``resolve(port:)``).
    case system

    /// Why a text names no server.
    public enum ParseError: Error, Equatable, Sendable {
        /// It is a host name, which would need a DNS query of its own.
        case hostName
        /// It is no address; the parser's words for what is wrong, when it has some.
        case notAnAddress(detail: String?)
    }

    /// Why ``system`` gave no address.
    public enum ResolveError: Error, Sendable {
        /// The file at `path` could not be read, for `reason`.
        case unreadable(path: String, reason: String)
        /// The file at `path` names no nameserver.
        case noNameserver(path: String)
    }

    /// Parses `198.18.0.53`, `198.18.0.53:5353`, `fd75::53`, `[fd75::53]:5353`, `[fe80::1%eth0]:53`, `system`.
    ///
    /// - Parameter text: The server as written, without the `@` that `udp dns` puts before it.
    /// - Throws: ``ParseError``: a host name, or no address at all.
    public init(parsing text: String) throws(ParseError) {
        if text == "system" {
            self = .system
            return
        }
        // A bare address takes port 53; an IPv6 one is bare unless it is bracketed (it has colons of its own),
        // and a bracketed one without a port is bare too.
        let colons = text.filter { $0 == ":" }.count
        let bracketedAlone = text.hasPrefix("[") && text.hasSuffix("]")
        let bare = bracketedAlone || (!text.hasPrefix("[") && colons != 1)
        do {
            self = .address(try SocketAddress(parsing: bare ? Self.withPort53(text) : text), explicitPort: !bare)
        } catch {
            let host = bare ? text : String(text.prefix { $0 != ":" })
            if !host.isEmpty, IPAddress(host) == nil,
                host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }),
                host.contains(where: \.isLetter)
            {
                throw .hostName
            }
            throw .notAnAddress(detail: error.detail)
        }
    }

    private static func withPort53(_ host: String) -> String {
        if host.hasPrefix("[") { return host + ":53" }
        return host.contains(":") ? "[\(host)]:53" : "\(host):53"
    }

    /// The address to ask, reading /etc/resolv.conf for ``system``.
    ///
    /// - Parameter port: A port to ask on instead of the one named (or 53).
    /// - Throws: ``ResolveError`` when ``system`` finds no address.
    public func resolve(port: UInt16? = nil) throws(ResolveError) -> SocketAddress {
        var address: SocketAddress
        switch self {
        case .address(let named, _):
            address = named
        case .system:
            let path = ResolvConf.path
            let found: SocketAddress?
            do { found = try ResolvConf.firstNameserver(path: path) } catch {
                throw .unreadable(path: path, reason: error.reason)
            }
            guard let found else { throw .noNameserver(path: path) }
            address = found
        }
        if let port { address.port = port }
        return address
    }
}
