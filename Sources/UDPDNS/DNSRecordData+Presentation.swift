extension DNSRecordData {
    /// The data as dig prints it (RFC 1035 §5.1 master-file form): `198.18.0.7`, `10 mail.example.test.`,
    /// `0 5 5060 sip.example.test.`, each TXT string quoted with `"` and `\` escaped and other bytes outside
    /// printable ASCII as `\DDD`, an SOA's seven fields on one line, and RFC 3597's `\# 3 0A0B0C` for a type
    /// this codec keeps as bytes.
    public var presentation: String {
        switch self {
        case .a(let address): address.description
        case .aaaa(let address): address.description
        case .ns(let name), .cname(let name), .ptr(let name): name.presentation
        case .mx(let preference, let exchange): "\(preference) \(exchange.presentation)"
        case .soa(let soa):
            [
                soa.primaryServer.presentation, soa.mailbox.presentation, String(soa.serial), String(soa.refresh),
                String(soa.retry), String(soa.expire), String(soa.minimum),
            ].joined(separator: " ")
        case .srv(let priority, let weight, let port, let target):
            "\(priority) \(weight) \(port) \(target.presentation)"
        case .txt(let strings):
            // An empty TXT record is one empty string on the wire (the encoder writes it so).
            (strings.isEmpty ? [[]] : strings).map(Self.quoted).joined(separator: " ")
        case .nsec(let next, let types):
            ([next.presentation] + types.map(\.description)).joined(separator: " ")
        case .unknown(_, let bytes):
            Self.generic(bytes)
        }
    }

    /// A character-string in quotes, as BIND's `txt_totext` writes it.
    static func quoted(_ string: [UInt8]) -> String {
        var text = "\""
        for byte in string {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): text += "\\" + String(UnicodeScalar(byte))
            case 0x20..<0x7F: text.unicodeScalars.append(UnicodeScalar(byte))
            default: text += DNSName.decimalEscape(byte)
            }
        }
        return text + "\""
    }

    /// RFC 3597 §5's generic form: `\#`, the length, and the bytes in upper-case hex, in words of 28 bytes as
    /// dig breaks them.
    static func generic(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        var text = "\\# \(bytes.count)"
        for (index, byte) in bytes.enumerated() {
            if index % 28 == 0 { text += " " }
            text.unicodeScalars.append(digits[Int(byte >> 4)])
            text.unicodeScalars.append(digits[Int(byte & 0xF)])
        }
        return text
    }
}
