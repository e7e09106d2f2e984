import UDP

extension AddressFamily {
    /// `ipv4` or `ipv6`: how JSON output and the `--stats` lines name a family.
    package var lowercasedName: String { self == .inet ? "ipv4" : "ipv6" }
}
