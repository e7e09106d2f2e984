/// Hex digits as bytes, for the rest of this package: key files, and payloads typed as hex on the command line.
package enum HexDigits {
    /// The bytes `text` spells in pairs of hex digits (either case), or nil when a character is not a hex digit
    /// or the digits do not pair up.
    ///
    /// - Parameter ignoringWhitespace: Skip spaces and tabs between digits, as in `de ad be ef`.
    package static func bytes(_ text: some StringProtocol, ignoringWhitespace: Bool = false) -> [UInt8]? {
        var bytes: [UInt8] = []
        var high: UInt8?
        for character in text.utf8 {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            case UInt8(ascii: " "),
                UInt8(ascii: "\t") where ignoringWhitespace:
                continue
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? bytes : nil
    }
}
