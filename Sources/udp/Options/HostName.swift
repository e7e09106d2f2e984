import UDPDNS

#if canImport(Glibc)
import Glibc
#endif

/// A host name as people write it, `box` or `box.local` (a trailing dot allowed), as the name mDNS publishes,
/// `box.local`; nil for anything else (one label in `.local`).
func localHostName(_ text: String) -> DNSName? {
    var text = text
    if text.hasSuffix(".") { text.removeLast() }
    if !text.hasSuffix(".local") { text += ".local" }
    guard let name = DNSName(text), name.labels.count == 2 else { return nil }
    return name
}

/// The machine's own name, its first label (`box` of `box.example.com`); `swift-udp` when it has none.
var machineName: String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "swift-udp" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let label = name.prefix { $0 != "." }
    return label.isEmpty ? "swift-udp" : String(label)
}
