import ArgumentParser
import UDP
import UDPDNS
import UDPTools

/// The `@SERVER[:PORT]` of `udp dns`: an IP address, never a name (resolving it would send a query of its own,
/// to a server nobody named), or `@system` for /etc/resolv.conf's first nameserver.
enum DNSServer: Equatable {
    /// An address; `explicitPort` when the text named the port.
    case address(SocketAddress, explicitPort: Bool)
    /// /etc/resolv.conf's first nameserver, read when the query runs.
    case system

    /// Parses the text after `@`: `198.18.0.53`, `198.18.0.53:5353`, `fd75::53`, `[fd75::53]:5353`,
    /// `[fe80::1%eth0]:53`, `system`.
    ///
    /// - Throws: `ValidationError` naming what is wrong.
    init(parsing text: String) throws {
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
                throw ValidationError(
                    "'@\(text)': SERVER must be an IP address (a name would need a DNS query of its own), or @system"
                )
            }
            throw ValidationError("'@\(text)': \(error.detail ?? "not an IP address")")
        }
    }

    private static func withPort53(_ host: String) -> String {
        if host.hasPrefix("[") { return host + ":53" }
        return host.contains(":") ? "[\(host)]:53" : "\(host):53"
    }

    /// The address to ask, reading /etc/resolv.conf for `@system`.
    func resolve(port: UInt16?) throws -> SocketAddress {
        switch self {
        case .address(var address, _):
            if let port { address.port = port }
            return address
        case .system:
            let path = ResolvConf.path
            let found: SocketAddress?
            do { found = try ResolvConf.firstNameserver(path: path) } catch {
                throw RuntimeFailure("@system: cannot read \(path): \(error.reason)")
            }
            guard var address = found else { throw RuntimeFailure("@system: \(path) names no nameserver") }
            if let port { address.port = port }
            return address
        }
    }
}
