extension NTPPacket {
    /// Why a datagram is not an NTP packet.
    public enum Malformation: String, Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// Fewer bytes than the 48 of the header.
        case tooShort = "shorter than an NTP header"
        /// An extension field whose length is under 16 bytes or not a multiple of 4 (RFC 7822 §3).
        case badExtensionField = "malformed extension field"
        /// Bytes after the header that end inside an extension field, or that are neither whole extension
        /// fields nor a MAC.
        case trailingBytes = "bytes past the extension fields"

        /// In words: `malformed extension field`.
        public var description: String { rawValue }
    }

    /// What may follow the 48-byte header (RFC 7822 §3 and §7.5): zero or more extension fields, each a 2-byte
    /// type, a 2-byte length that counts the whole field and is a multiple of 4 and at least 16, and its
    /// value; then at most one legacy MAC (a 4-byte key id and a 16-byte MD5 or 20-byte SHA-1 digest).
    ///
    /// Where 20 or 24 bytes are left they are the MAC, as chrony reads them: RFC 7822 makes the last field 28
    /// bytes at least when no MAC follows, so that the two cannot be mistaken for each other.
    public enum Layout {
        /// The smallest extension field, in bytes (RFC 7822 §3).
        public static let minimumExtensionField = 16
        /// The lengths a legacy MAC may have, in bytes: key id and MD5, key id and SHA-1.
        public static let macLengths: Set<Int> = [20, 24]

        /// Nil when `bytes` is a header, whole extension fields and at most one MAC; else what is wrong.
        public static func check(_ bytes: [UInt8]) -> Malformation? {
            guard bytes.count >= NTPPacket.size else { return .tooShort }
            var offset = NTPPacket.size
            // Every field moves the offset on by 16 bytes at least, so the loop ends.
            while offset < bytes.count {
                let left = bytes.count - offset
                if macLengths.contains(left) { return nil }
                guard left >= 4 else { return .trailingBytes }
                let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                guard length >= minimumExtensionField, length % 4 == 0 else { return .badExtensionField }
                guard length <= left else { return .trailingBytes }
                offset += length
            }
            return nil
        }
    }
}
