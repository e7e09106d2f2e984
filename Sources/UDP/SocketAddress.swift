/// An IPv4 or IPv6 socket address: an IP address and a port, plus flow info and scope id for IPv6.
///
/// Stored inline (no allocation), `Hashable` so a peer can key a dictionary, and `LosslessStringConvertible`:
/// `192.0.2.1:9000`, `[::1]:9000` and `[fe80::1%lo]:9000` survive a round trip through text. Parsing never
/// blocks; host names go through ``resolve(_:port:family:)``, which says which family it wants.
public enum SocketAddress: Hashable, Sendable, LosslessStringConvertible {
    /// An IPv4 address and port.
    case v4(V4)
    /// An IPv6 address and port, with flow info and scope id.
    case v6(V6)

    /// An IPv4 socket address (`struct sockaddr_in`).
    public struct V4: Hashable, Sendable {
        /// The IPv4 address.
        public var ip: IPv4Address
        /// The port, in host byte order; 0 in a bind lets the kernel pick a free one.
        public var port: UInt16
        /// Creates an IPv4 socket address from an address and a port.
        public init(ip: IPv4Address, port: UInt16) {
            self.ip = ip
            self.port = port
        }
    }

    /// An IPv6 socket address (`struct sockaddr_in6`).
    public struct V6: Hashable, Sendable {
        /// The IPv6 address, which may be a v4-mapped IPv4 one (``SocketAddress/isV4Mapped``).
        public var ip: IPv6Address
        /// The port, in host byte order; 0 in a bind lets the kernel pick a free one.
        public var port: UInt16
        /// The flow label and traffic class field of `sin6_flowinfo`, in host byte order.
        public var flowInfo: UInt32
        /// The interface index a link-local address belongs to (0 for none): the `%lo` of `fe80::1%lo`.
        public var scopeID: UInt32
        /// Creates an IPv6 socket address. A link-local address needs `scopeID`, the index of its interface
        /// (``NetworkInterface/index``); leave `flowInfo` at 0 unless you set IPv6 flow labels.
        public init(ip: IPv6Address, port: UInt16, flowInfo: UInt32 = 0, scopeID: UInt32 = 0) {
            self.ip = ip
            self.port = port
            self.flowInfo = flowInfo
            self.scopeID = scopeID
        }
    }

    /// An address from an IP address and a port.
    public init(_ ip: IPAddress, port: UInt16) {
        switch ip {
        case .v4(let address): self = .v4(V4(ip: address, port: port))
        case .v6(let address): self = .v6(V6(ip: address, port: port))
        }
    }

    /// An IPv4 address and port.
    public init(_ ip: IPv4Address, port: UInt16) { self = .v4(V4(ip: ip, port: port)) }

    /// An IPv6 address and port, with an optional scope id (interface index).
    public init(_ ip: IPv6Address, port: UInt16, scopeID: UInt32 = 0) {
        self = .v6(V6(ip: ip, port: port, scopeID: scopeID))
    }

    /// `127.0.0.1:port`.
    public static func loopbackV4(port: UInt16) -> SocketAddress { SocketAddress(IPv4Address.loopback, port: port) }
    /// `[::1]:port`.
    public static func loopbackV6(port: UInt16) -> SocketAddress { SocketAddress(IPv6Address.loopback, port: port) }
    /// The wildcard address of `family`: `0.0.0.0:port` or `[::]:port`.
    public static func any(_ family: AddressFamily, port: UInt16 = 0) -> SocketAddress {
        family == .inet6 ? SocketAddress(IPv6Address.any, port: port) : SocketAddress(IPv4Address.any, port: port)
    }

    /// The IP address without the port.
    public var ip: IPAddress {
        switch self {
        case .v4(let address): .v4(address.ip)
        case .v6(let address): .v6(address.ip)
        }
    }

    /// The port, in host byte order.
    public var port: UInt16 {
        get {
            switch self {
            case .v4(let address): address.port
            case .v6(let address): address.port
            }
        }
        set {
            switch self {
            case .v4(var address):
                address.port = newValue
                self = .v4(address)
            case .v6(var address):
                address.port = newValue
                self = .v6(address)
            }
        }
    }

    /// The family of socket that can use this address.
    public var family: AddressFamily { ip.family }

    /// True for `::ffff:a.b.c.d`, the form in which a dual-stack IPv6 socket reports an IPv4 peer.
    public var isV4Mapped: Bool {
        if case .v6(let address) = self { return address.ip.v4Mapped != nil }
        return false
    }

    /// The IPv4 peer behind a v4-mapped IPv6 address (`[::ffff:127.0.0.1]:9000` becomes `127.0.0.1:9000`);
    /// any other address unchanged. Use it to show a dual-stack socket's IPv4 peers as what they are.
    public var unmapped: SocketAddress {
        if case .v6(let address) = self, let v4 = address.ip.v4Mapped { return SocketAddress(v4, port: address.port) }
        return self
    }

    /// This address in the form a socket of `family` needs: an IPv4 address becomes v4-mapped for an IPv6
    /// socket, a v4-mapped one plain IPv4 for an IPv4 socket (so a peer reported by a dual-stack socket can be
    /// answered from an IPv4 one); anything else is unchanged (and fails in the kernel if the families cannot
    /// meet).
    public func converted(for family: AddressFamily) -> SocketAddress {
        if family == .inet6, case .v4(let address) = self {
            return SocketAddress(IPv6Address(v4Mapped: address.ip), port: address.port)
        }
        return family == .inet ? unmapped : self
    }

    /// `192.0.2.1:9000`, `[2001:db8::1]:9000`, `[fe80::1%lo]:9000` (the interface name when the index still
    /// names one, the number otherwise).
    public var description: String {
        switch self {
        case .v4(let address):
            return "\(address.ip):\(address.port)"
        case .v6(let address):
            var host = address.ip.description
            if address.scopeID != 0 {
                host += "%" + (NetworkInterface.name(ofIndex: address.scopeID) ?? String(address.scopeID))
            }
            return "[\(host)]:\(address.port)"
        }
    }

    /// Parses numeric text: `host:port` for IPv4, `[host]:port` or `[host%scope]:port` for IPv6.
    /// Returns nil for anything else; ``init(parsing:)`` says what was wrong.
    public init?(_ description: String) {
        guard let address = try? SocketAddress(parsing: description) else { return nil }
        self = address
    }

    /// Parses numeric text as ``init(_:)`` does, throwing an error that names the problem.
    ///
    /// The scope of a link-local address may be an interface name (`%eth0`, resolved now with
    /// `if_nametoindex`) or an index (`%2`). Host names are refused here; see ``resolve(_:port:family:)``.
    public init(parsing text: String) throws(UDPError) {
        let (host, port) = try Self.splitHostPort(text)
        guard let address = try Self.numeric(host: host, port: port, original: text) else {
            throw UDPError(.invalidAddress, .parse, detail: "'\(text)' is not an IP address with a port")
        }
        self = address
    }

    /// Splits `host:port` or `[host]:port`, checking the port. The host keeps its scope suffix.
    static func splitHostPort(_ text: String) throws(UDPError) -> (host: String, port: UInt16) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw UDPError(.invalidAddress, .parse, detail: "'\(text)' has '[' without a closing ']'")
            }
            host = text[text.index(after: text.startIndex)..<close]
            if IPv4Address(String(host)) != nil {
                throw UDPError(
                    .invalidAddress,
                    .parse,
                    detail: "'\(text)': brackets are for IPv6; write an IPv4 address bare"
                )
            }
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw UDPError(.invalidAddress, .parse, detail: "'\(text)' needs a port after ']', as in [::1]:9000")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw UDPError(.invalidAddress, .parse, detail: "'\(text)' needs a port, as in 127.0.0.1:9000")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw UDPError(
                    .invalidAddress,
                    .parse,
                    detail: "'\(text)': write an IPv6 address in brackets, as in [::1]:9000"
                )
            }
        }
        guard !host.isEmpty else {
            throw UDPError(.invalidAddress, .parse, detail: "'\(text)' has no host")
        }
        do {
            return (String(host), try parsePort(portText))
        } catch {
            throw UDPError(.invalidAddress, .parse, detail: "'\(text)': \(error.detail ?? "bad port")")
        }
    }

    /// Parses a decimal port, 0 to 65535.
    public static func parsePort(_ text: some StringProtocol) throws(UDPError) -> UInt16 {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw UDPError(.invalidAddress, .parse, detail: "port '\(text)' is not a number")
        }
        guard text.count <= 5, let value = Int(text), value <= 65_535 else {
            throw UDPError(.invalidAddress, .parse, detail: "port \(text) is out of range 0-65535")
        }
        return UInt16(value)
    }

    /// A numeric host (with an optional `%scope`) and a port, or nil when `host` is not numeric.
    static func numeric(host: String, port: UInt16, original: String) throws(UDPError) -> SocketAddress? {
        if let v4 = IPv4Address(host) { return SocketAddress(v4, port: port) }
        var ipText = Substring(host)
        var scopeID: UInt32 = 0
        if let percent = host.firstIndex(of: "%") {
            ipText = host[..<percent]
            let scope = host[host.index(after: percent)...]
            guard IPv6Address(String(ipText)) != nil else { return nil }
            if let index = UInt32(scope) {
                scopeID = index
            } else {
                scopeID = try NetworkInterface(named: String(scope)).index
            }
        }
        guard let v6 = IPv6Address(String(ipText)) else { return nil }
        return SocketAddress(v6, port: port, scopeID: scopeID)
    }
}
