extension DNSName {
    /// The name as dig and zone files write it (RFC 1035 §5.1, with BIND's escapes): absolute, with its
    /// trailing dot (`mail.example.test.`, the root `.`); in a label, `.`, `\`, `"`, `(`, `)`, `;`, `@` and `$`
    /// get a backslash, and a byte outside printable ASCII (a space, a control byte, UTF-8) becomes `\DDD`.
    ///
    /// Unlike ``description`` it shows every byte as ASCII, so the same name always prints the same way as
    /// dig's, and nothing in a name from the network can drive a terminal.
    public var presentation: String {
        guard !labels.isEmpty else { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"),
                    UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    text += "\\" + String(UnicodeScalar(byte))
                case 0x21..<0x7F:
                    text.unicodeScalars.append(UnicodeScalar(byte))
                default:
                    text += Self.decimalEscape(byte)
                }
            }
            text += "."
        }
        return text
    }

    /// `\DDD`: a byte as three decimal digits after a backslash (RFC 1035 §5.1).
    static func decimalEscape(_ byte: UInt8) -> String {
        let digits = String(byte)
        return "\\" + String(repeating: "0", count: 3 - digits.count) + digits
    }
}
