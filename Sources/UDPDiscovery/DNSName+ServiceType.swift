import UDPDNS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DNSName {
    /// A DNS-SD service type as people write it, `_http._tcp` (`.local` and a trailing dot allowed), as the name
    /// mDNS uses, `_http._tcp.local`; nil for anything else (RFC 6763 §7: `_NAME._tcp` or `_NAME._udp`).
    ///
    /// - Parameter text: What a person typed: `_ipp._tcp`, `_http._tcp.local.`.
    public static func serviceType(_ text: String) -> DNSName? {
        guard let name = DNSName(inLocal: text), name.labels.count == 3, name.labels[0].first == UInt8(ascii: "_"),
            ["_udp", "_tcp"].contains(DNSName.text(name.labels[1]).lowercased())
        else { return nil }
        return name
    }

    /// A host name as people write it, `box` or `box.local` (a trailing dot allowed), as the name mDNS
    /// publishes, `box.local`; nil for anything else (one label in `.local`).
    ///
    /// - Parameter text: What a person typed, or `machineName`.
    public static func localHost(_ text: String) -> DNSName? {
        guard let name = DNSName(inLocal: text), name.labels.count == 2 else { return nil }
        return name
    }

    /// The machine's own name, its first label (`box` of `box.example.com`); `swift-udp` when it has none: the
    /// host name an mDNS announcement publishes unless told another.
    ///
    /// The corresponding C function is `gethostname(2)`.
    public static var machineName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "swift-udp" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let label = name.prefix { $0 != "." }
        return label.isEmpty ? "swift-udp" : String(label)
    }

    /// `text` without a trailing dot and with `.local` added when it lacks it, parsed.
    private init?(inLocal text: String) {
        var text = text
        if text.hasSuffix(".") { text.removeLast() }
        if !text.hasSuffix(".local") { text += ".local" }
        self.init(text)
    }
}
