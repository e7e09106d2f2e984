/// A domain name as its labels: `_http._tcp.local` is `["_http", "_tcp", "local"]`, the root is `[]`.
///
/// Labels are bytes, not text: DNS-SD instance names hold spaces, dots and UTF-8 (`My Printer (2)`), so a label
/// may contain anything but is at most 63 bytes, and the whole name at most 255 on the wire. Names compare as DNS
/// compares them, ignoring ASCII case.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The most bytes a label may hold.
    public static let maximumLabelLength = 63
    /// The most bytes a name may take on the wire (each label with its length byte, and the root's zero).
    public static let maximumWireLength = 255

    /// The labels, most specific first.
    public let labels: [[UInt8]]

    /// The root name, `.`.
    public static let root = DNSName(checked: [])

    /// A name from its labels.
    ///
    /// - Throws: `DNSError` for an empty label, a label over 63 bytes or a name over 255 on the wire.
    public init(labels: [[UInt8]]) throws(DNSError) {
        var length = 1
        for label in labels {
            guard !label.isEmpty else { throw DNSError.emptyLabel }
            guard label.count <= Self.maximumLabelLength else { throw DNSError.labelTooLong(label.count) }
            length += 1 + label.count
        }
        guard length <= Self.maximumWireLength else { throw DNSError.nameTooLong(length) }
        self.labels = labels
    }

    /// Labels already checked (by the decoder, or by construction).
    init(checked labels: [[UInt8]]) { self.labels = labels }

    /// A name written as text: labels separated by dots, a trailing dot allowed, `\.` and `\\` for a dot or a
    /// backslash inside a label, `\DDD` for any byte in decimal (`My\ Printer` needs no escape: spaces are
    /// plain bytes). Nil when the text does not make a valid name.
    public init?(_ text: String) {
        var labels: [[UInt8]] = []
        var label: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        if bytes == [UInt8(ascii: ".")] { bytes = [] }  // "." is the root
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "."):
                guard !label.isEmpty else { return nil }
                labels.append(label)
                label = []
            case UInt8(ascii: "\\"):
                guard let next = bytes.popFirst() else { return nil }
                if let hundreds = Self.digit(next) {
                    guard let tens = bytes.popFirst().flatMap(Self.digit),
                        let ones = bytes.popFirst().flatMap(Self.digit)
                    else { return nil }
                    let value = hundreds * 100 + tens * 10 + ones
                    guard value <= 255 else { return nil }
                    label.append(UInt8(value))
                } else {
                    label.append(next)
                }
            default:
                label.append(byte)
            }
        }
        if !label.isEmpty { labels.append(label) }
        guard let name = try? DNSName(labels: labels) else { return nil }
        self = name
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// The name as text, without the trailing dot (`name.local`; the root is `.`): a dot or a backslash inside a
    /// label escaped with a backslash, control bytes and invalid UTF-8 as `\DDD`, so what a hostile packet puts
    /// in a name cannot drive a terminal.
    public var description: String {
        guard !labels.isEmpty else { return "." }
        return labels.map(Self.text).joined(separator: ".")
    }

    /// One label as text: UTF-8 where it is valid and printable, `\DDD` for everything else.
    public static func text(_ label: [UInt8]) -> String {
        var out = ""
        var index = label.startIndex
        while index < label.endIndex {
            let byte = label[index]
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "\\") {
                out += "\\" + String(UnicodeScalar(byte))
                index += 1
            } else if byte >= 0x20 && byte < 0x7F {
                out.unicodeScalars.append(UnicodeScalar(byte))
                index += 1
            } else if let (scalar, length) = Self.decodeScalar(label, at: index), scalar.value >= 0xA0,
                !(0x2028...0x2029).contains(scalar.value), !(0x202A...0x202E).contains(scalar.value),
                !(0x2066...0x2069).contains(scalar.value)
            {
                out.unicodeScalars.append(scalar)
                index += length
            } else {
                let digits = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                index += 1
            }
        }
        return out
    }

    /// The UTF-8 scalar at `index` and its length in bytes, or nil for an invalid sequence.
    private static func decodeScalar(_ bytes: [UInt8], at index: Int) -> (UnicodeScalar, Int)? {
        var iterator = bytes[index...].makeIterator()
        var decoder = UTF8()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return nil }
        return (scalar, String(scalar).utf8.count)
    }

    /// Bytes the name takes on the wire, uncompressed.
    public var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// The name with `label` put in front: an instance under its service type.
    public func prepending(_ label: [UInt8]) throws(DNSError) -> DNSName {
        try DNSName(labels: [label] + labels)
    }

    /// The labels folded to lower case (ASCII only), as DNS compares them.
    var foldedLabels: [[UInt8]] {
        labels.map { $0.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 } }
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool { lhs.foldedLabels == rhs.foldedLabels }

    public func hash(into hasher: inout Hasher) { hasher.combine(foldedLabels) }
}
