import UDP

extension DNSName {
    /// The name a reverse lookup of `address` asks for its PTR record (`dig -x`): the IPv4 octets in reverse
    /// under `in-addr.arpa` (RFC 1035 §3.5), the IPv6 nibbles in reverse under `ip6.arpa` (RFC 3596 §2.5).
    ///
    /// ```swift
    /// DNSName.reverseLookup(IPAddress("198.18.0.7")!)   // 7.0.18.198.in-addr.arpa
    /// DNSName.reverseLookup(IPAddress("fd75::1")!)      // 1.0.0.0.….5.7.d.f.ip6.arpa
    /// ```
    public static func reverseLookup(_ address: IPAddress) -> DNSName {
        let digits = Array("0123456789abcdef".utf8)
        switch address {
        case .v4(let v4):
            return DNSName(
                checked: v4.bytes.reversed().map { Array(String($0).utf8) } + [
                    Array("in-addr".utf8), Array("arpa".utf8),
                ]
            )
        case .v6(let v6):
            let nibbles = v6.bytes.reversed().flatMap { [[digits[Int($0 & 0xF)]], [digits[Int($0 >> 4)]]] }
            return DNSName(checked: nibbles + [Array("ip6".utf8), Array("arpa".utf8)])
        }
    }
}
