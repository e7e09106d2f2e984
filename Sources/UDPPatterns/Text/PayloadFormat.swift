/// How a payload is shown on a terminal: as text when it is printable UTF-8, escaped otherwise (the notation
/// of ``NetworkText``), so a binary or hostile datagram can never move the cursor, change colours or retitle
/// the window.
package enum PayloadFormat {
    /// Text as is when printable, else escaped.
    case text
    /// Lowercase hex, two digits a byte.
    case hex

    /// The payload on one line: newlines and other controls are escaped even in printable text.
    package func singleLine(_ bytes: some Collection<UInt8>) -> String {
        switch self {
        case .hex: return Self.hex(bytes)
        case .text: return NetworkText.shown(bytes, allowNewlines: false)
        }
    }

    /// The payload as a block of text: line breaks and tabs kept, other controls escaped.
    package func block(_ bytes: some Collection<UInt8>) -> String {
        switch self {
        case .hex: return Self.hex(bytes)
        case .text: return NetworkText.shown(bytes, allowNewlines: true)
        }
    }

    /// Lowercase hex, two digits a byte, no separator.
    package static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
