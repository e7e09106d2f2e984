/// How a payload is shown on a terminal: as text when it is printable UTF-8, escaped otherwise, so a
/// binary or hostile datagram can never move the cursor, change colours or retitle the window.
enum PayloadFormat {
    /// Text as is when printable, else escaped.
    case text
    /// Lowercase hex, two digits a byte.
    case hex

    /// The payload on one line: newlines and other controls are escaped even in printable text.
    func singleLine(_ bytes: some Collection<UInt8>) -> String {
        switch self {
        case .hex: return Self.hex(bytes)
        case .text: return Self.printable(bytes, allowNewlines: false) ?? Self.escaped(bytes)
        }
    }

    /// The payload as a block of text: line breaks and tabs kept, other controls escaped.
    func block(_ bytes: some Collection<UInt8>) -> String {
        switch self {
        case .hex: return Self.hex(bytes)
        case .text: return Self.printable(bytes, allowNewlines: true) ?? Self.escaped(bytes)
        }
    }

    static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The text if `bytes` are valid UTF-8 without control characters (C0, DEL, C1; tab allowed, and line
    /// breaks when `allowNewlines`), else nil.
    static func printable(_ bytes: some Collection<UInt8>, allowNewlines: Bool) -> String? {
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
                // C0, DEL, C1, the Unicode line and paragraph separators, and the bidirectional overrides and
                // isolates, which reorder how the rest of the line is shown.
                let isControl =
                    value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
                    || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
                let allowed = value == 0x09 || (allowNewlines && (value == 0x0A || value == 0x0D))
                if isControl && !allowed { return nil }
                scalars.append(scalar)
            case .emptyInput:
                return afterCarriageReturn ? nil : String(scalars)
            case .error:
                return nil
            }
        }
    }

    /// Printable ASCII as is, `\\`, `\n`, `\r`, `\t`, and `\xHH` for every other byte: pure ASCII out.
    static func escaped(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x20...0x7E: out.append(byte)
            default: out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
