/// A string a peer chose, byte for byte, for the package's presentation code (the protocol modules' text and
/// JSON forms and the `udp` tool): a payload, an SSDP header, a TXT string, a name, a reference ID. It
/// has two renderings and no others, `description` for a terminal and `json` for JSON, so output code that
/// holds one can only print it escaped; and the `udp` tool's `Console` escapes, with the same notation, any control
/// character that reaches it some other way.
///
/// **On a terminal** the text is shown as it is when it is valid UTF-8 with no control character; otherwise
/// the whole string is written in ASCII: printable ASCII as it is, `\\` for a backslash, `\n`, `\r` and `\t`,
/// and `\xHH` (lowercase hex) for every other byte, each byte of a multibyte character included:
/// `ESC [ 2 J` shows as `\x1b[2J`, U+0085 as `\xc2\x85`, a lone 0xff as `\xff`. The control characters are C0
/// (tab excepted), DEL, C1, the line and paragraph separators U+2028 and U+2029, and the bidirectional
/// embeddings, overrides (U+202A-202E) and isolates (U+2066-2069), which reorder how the rest of a line is
/// shown. A DNS name arrives already in its presentation form (`\DDD` for a byte that is not printable, `\.`
/// for a dot inside a label, as dig and avahi write names), which passes as it is.
///
/// **In JSON** it is a string escaped as RFC 8259 §7 asks, and more: `\uXXXX` for every control character
/// above, not only those below U+0020, so a JSON line shown on a terminal is as safe as the text. Invalid
/// UTF-8 becomes U+FFFD (a JSON string holds Unicode, not bytes); the text output shows the exact bytes.
package struct NetworkText: Hashable, Sendable, CustomStringConvertible {
    private let bytes: [UInt8]

    /// Bytes as received: a payload, a TXT string.
    package init(bytes: some Sequence<UInt8>) { self.bytes = Array(bytes) }

    /// Text a decoder made from what was received: an SSDP header, a TXT key.
    package init(_ text: String) { bytes = Array(text.utf8) }

    /// The text on one line: line breaks escaped with everything else.
    package var description: String { Self.shown(bytes, allowNewlines: false) }

    /// The text as a block: line breaks (LF, CRLF) and tabs kept, other controls escaped.
    package var block: String { Self.shown(bytes, allowNewlines: true) }

    /// The one-line form in double quotes, `"` and `\` escaped: a value among other fields on a line.
    package var quoted: String { JSONObject.quoted(description) }

    /// A JSON string, quotes included.
    package var json: String { JSONObject.quoted(String(decoding: bytes, as: UTF8.self)) }

    /// `bytes` as is when they are printable (``printable(_:allowNewlines:)``), else all of them escaped
    /// (``escaped(_:)``): the one rule, for a ``NetworkText`` and for a payload alike.
    package static func shown(_ bytes: some Collection<UInt8>, allowNewlines: Bool) -> String {
        printable(bytes, allowNewlines: allowNewlines) ?? escaped(bytes)
    }

    /// Whether `scalar` is one of the control characters that are never written raw: C0, DEL, C1, U+2028,
    /// U+2029, U+202A-202E and U+2066-2069.
    package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
            || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
    }

    /// The text if `bytes` are valid UTF-8 without control characters (tab allowed, and line breaks when
    /// `allowNewlines`), else nil.
    package static func printable(_ bytes: some Collection<UInt8>, allowNewlines: Bool) -> String? {
        var scalars = String.UnicodeScalarView()
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        // A carriage return is allowed only as the first half of CRLF: alone it moves the cursor back and lets
        // a datagram overwrite what is already on the line.
        var afterCarriageReturn = false
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                let value = scalar.value
                if afterCarriageReturn && value != 0x0A { return nil }
                afterCarriageReturn = allowNewlines && value == 0x0D
                let allowed = value == 0x09 || (allowNewlines && (value == 0x0A || value == 0x0D))
                if isControl(scalar) && !allowed { return nil }
                scalars.append(scalar)
            case .emptyInput:
                return afterCarriageReturn ? nil : String(scalars)
            case .error:
                return nil
            }
        }
    }

    /// Printable ASCII as is, `\\`, `\n`, `\r`, `\t`, and `\xHH` for every other byte: pure ASCII out.
    package static func escaped(_ bytes: some Collection<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        for byte in bytes { appendEscaped(byte, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` with each control character but tab written in the notation of ``escaped(_:)``, byte by byte:
    /// what the `udp` tool's `Console` writes, so that no caller can put a raw control byte on a terminal. Tab stays, as it
    /// only moves the cursor forward and dig's layout needs it.
    package static func terminalSafe(_ text: String) -> String {
        // Nearly every line is printable ASCII: checked by byte, returned without a copy.
        guard text.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 >= 0x7F }) else { return text }
        guard text.unicodeScalars.contains(where: { isControl($0) && $0 != "\t" }) else { return text }
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if isControl(scalar) && scalar != "\t" {
                for byte in scalar.utf8 { appendEscaped(byte, to: &out) }
            } else {
                out += scalar.utf8
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        switch byte {
        case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
        case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case 0x20...0x7E: out.append(byte)
        default:
            digits.withUTF8Buffer { digits in
                out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
    }
}
