import CUDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SocketAddress {
    /// Resolves a host name (or numeric text) to socket addresses, in a documented order.
    ///
    /// This is a blocking call: it may ask the DNS resolver named in `/etc/resolv.conf`. Numeric hosts never
    /// reach the resolver.
    ///
    /// - Parameters:
    ///   - host: A name such as `localhost`, or a numeric address (IPv6 without brackets, `%scope` allowed).
    ///   - port: The port to put in each result.
    ///   - family: `.inet` or `.inet6` for that family alone; `nil` for both, **IPv4 results first**, then
    ///     IPv6, each in the resolver's order. IPv4 first because servers most often bind `0.0.0.0`: with the
    ///     resolver's own order `localhost` would usually try `::1` first and find nobody there.
    /// - Returns: At least one address, without duplicates.
    /// - Throws: `UDPError` with code `.nameResolution` when nothing of that family is found.
    ///
    /// The corresponding C function is `getaddrinfo(3)`.
    public static func resolve(
        _ host: String,
        port: UInt16,
        family: AddressFamily? = nil
    ) throws(UDPError)
        -> [SocketAddress]
    {
        if let numeric = try numeric(host: host, port: port, original: host) {
            guard family == nil || numeric.family == family else {
                throw UDPError(
                    .nameResolution,
                    .resolve,
                    detail: "'\(host)' is an \(numeric.family) address, but \(family!) was asked for"
                )
            }
            return [numeric]
        }
        if let reason = notAHostName(host) {
            // A typo such as `0.0.0.0:9000` would otherwise go to the DNS resolver, off this machine, and come
            // back as "name or service not known", which names the wrong mistake.
            throw UDPError(
                .invalidAddress,
                .resolve,
                detail: "'\(host)' is not an IP address or a host name: \(reason)"
            )
        }
        var hints = addrinfo()
        hints.ai_family = family?.rawValue ?? AF_UNSPEC
        hints.ai_socktype = datagramSocketType
        hints.ai_protocol = cudp_IPPROTO_UDP
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            var error = UDPError(
                .nameResolution,
                .resolve,
                detail: "cannot resolve '\(host)': \(resolverMessage(status))"
            )
            if status == EAI_SYSTEM { error.errno = .current }
            throw error
        }
        defer { freeaddrinfo(list) }
        var v4: [SocketAddress] = []
        var v6: [SocketAddress] = []
        var entry = list
        while let info = entry {
            if let address = SocketAddress(info.pointee.ai_addr, length: info.pointee.ai_addrlen) {
                var withPort = address
                withPort.port = port
                if withPort.family == .inet {
                    if !v4.contains(withPort) { v4.append(withPort) }
                } else if !v6.contains(withPort) {
                    v6.append(withPort)
                }
            }
            entry = info.pointee.ai_next
        }
        let all = v4 + v6
        guard !all.isEmpty else {
            throw UDPError(
                .nameResolution,
                .resolve,
                detail: "cannot resolve '\(host)': it has no \(family?.description ?? "IP") address"
            )
        }
        return all
    }

    /// Parses `host:port` or `[host]:port`, resolving a host name when the host is not numeric, and returns the
    /// first address in ``resolve(_:port:family:)``'s order.
    public init(resolving text: String, family: AddressFamily? = nil) throws(UDPError) {
        let (host, port) = try Self.splitHostPort(text)
        self = try Self.resolve(host, port: port, family: family)[0]
    }

    /// Why `host`, which is not numeric, cannot be a host name either; nil when it may be one.
    static func notAHostName(_ host: String) -> String? {
        if host.isEmpty { return "it is empty" }
        if host.contains("[") || host.contains("]") {
            return "brackets go around an IPv6 address followed by a port, as in [::1]:9000"
        }
        if host.contains("%") { return "a %scope follows an IPv6 address only" }
        if host.contains(":") { return "a colon belongs in an IPv6 address only (a port is given apart)" }
        let allowed = host.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
        }
        return allowed ? nil : "a host name holds letters, digits, '-', '_' and '.' only"
    }

    private static func resolverMessage(_ status: CInt) -> String {
        guard let text = gai_strerror(status) else { return "resolver error \(status)" }
        let message = String(cString: text)
        guard let first = message.first else { return message }
        return first.lowercased() + message.dropFirst()
    }
}
