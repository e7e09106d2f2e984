import UDP

/// The system's resolver configuration, read only when asked (`udp dns NAME @system`): no query of this
/// project goes to a server nobody named.
public enum ResolvConf {
    /// Where the C library reads it.
    public static let path = "/etc/resolv.conf"

    /// The first `nameserver` line's address in `text`, on port 53; nil when there is none. Comments (`#`,
    /// `;`) and other options are skipped; an IPv6 address may carry its scope (`fe80::1%eth0`).
    public static func firstNameserver(in text: String) -> SocketAddress? {
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { continue }
            let address = String(words[1])
            let bracketed = address.contains(":") ? "[\(address)]:53" : "\(address):53"
            if let server = try? SocketAddress(parsing: bracketed) { return server }
        }
        return nil
    }

    /// The first nameserver of the file at `path`.
    ///
    /// - Throws: `UDPError` when the file cannot be read; nil when it names no server.
    public static func firstNameserver(path: String = ResolvConf.path) throws(UDPError) -> SocketAddress? {
        firstNameserver(in: String(decoding: try FileIO.readAll(path: path, limit: 1 << 20), as: UTF8.self))
    }
}
