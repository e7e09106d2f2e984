import UDPDNS

/// A DNS-SD service type as people write it, `_http._tcp` (`.local` and a trailing dot allowed), as the name
/// mDNS uses, `_http._tcp.local`; nil for anything else (RFC 6763 §7: `_NAME._tcp` or `_NAME._udp`).
func serviceTypeName(_ text: String) -> DNSName? {
    var text = text
    if text.hasSuffix(".") { text.removeLast() }
    if !text.hasSuffix(".local") { text += ".local" }
    guard let name = DNSName(text), name.labels.count == 3, name.labels[0].first == UInt8(ascii: "_"),
        ["_udp", "_tcp"].contains(DNSName.text(name.labels[1]).lowercased())
    else { return nil }
    return name
}
