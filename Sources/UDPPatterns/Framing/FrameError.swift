/// Why a datagram is not a well-formed frame, or why a frame cannot be encoded.
///
/// Decoding checks every field before trusting it, so any input — truncated, padded, forged or random —
/// ends in one of these values rather than a crash or a read past the end.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Fewer bytes than the header needs: `needed` bytes were required, the datagram or buffer had `got`.
    case shortFrame(needed: Int, got: Int)
    /// The first byte's high nibble is not ``FrameHeader/magic``: not one of our frames at all.
    case badMagic(UInt8)
    /// Our magic, but a version (the first byte's low nibble) this code does not speak.
    case badVersion(UInt8)
    /// Flag bits this version does not define are set (the whole flags byte is given).
    case unknownFlags(UInt8)
    /// The length field disagrees with the bytes that follow the header: the datagram was truncated
    /// (`actual` smaller) or padded (`actual` larger).
    case badLength(declared: Int, actual: Int)
    /// A payload too long for the 16-bit length field (encoding only).
    case payloadTooLong(Int)

    /// A sentence for logs: `frame declares 2 payload bytes but carries 1`.
    public var description: String {
        switch self {
        case .shortFrame(let needed, let got): "short frame: needed \(needed) bytes, got \(got)"
        case .badMagic(let byte): "not a frame: first byte 0x\(hex(byte))"
        case .badVersion(let version): "unsupported frame version \(version)"
        case .unknownFlags(let flags): "unknown flags 0x\(hex(flags))"
        case .badLength(let declared, let actual): "frame declares \(declared) payload bytes but carries \(actual)"
        case .payloadTooLong(let count):
            "payload of \(count) bytes is longer than a frame can carry (\(FrameHeader.maximumPayloadLength))"
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
}
