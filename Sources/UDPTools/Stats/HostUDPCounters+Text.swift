// What `udp stats` prints: netstat -su's layout, the changes of `--watch` on one line, or one JSON object.

extension HostUDPCounters {
    /// `Udp:` and each counter indented beneath, then `Udp6:` and its own where the host has IPv6.
    public var lines: [String] {
        var lines = ["Udp:"] + ipv4.named.map { "    \($0.name): \($0.value)" }
        if let six = ipv6 { lines += ["Udp6:"] + six.named.map { "    \($0.name): \($0.value)" } }
        return lines
    }

    /// The counters that moved, as differences (``changes(since:)``): `InDatagrams +3, Udp6InDatagrams +1`, or
    /// `no change`.
    public var changesLine: String {
        var parts = ipv4.named.filter { $0.value != 0 }.map { "\($0.name) +\($0.value)" }
        parts += (ipv6?.named ?? []).filter { $0.value != 0 }.map { "Udp6\($0.name) +\($0.value)" }
        return parts.isEmpty ? "no change" : parts.joined(separator: ", ")
    }

    /// One JSON object: `{"udp": {"InDatagrams": 12, …}, "udp6": {…}}`, `udp6` only where the host has IPv6.
    public var json: String {
        func object(_ family: Counters) -> String {
            "{" + family.named.map { "\"\($0.name)\": \($0.value)" }.joined(separator: ", ") + "}"
        }
        var text = "{\"udp\": \(object(ipv4))"
        if let six = ipv6 { text += ", \"udp6\": \(object(six))" }
        return text + "}"
    }
}
