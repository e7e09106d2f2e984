/// Why bytes are not a DNS message, or a message cannot be written: every way a packet from the network can be
/// malformed ends here, never in a crash, a hang or an allocation the packet's size does not warrant.
public enum DNSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message ends before the field at this offset does.
    case truncated(at: Int)
    /// A compression pointer leads outside the message.
    case pointerOutOfRange(at: Int)
    /// A compression pointer does not lead strictly backwards, so it could loop.
    case compressionLoop(at: Int)
    /// A label's length byte uses the reserved forms (`01`, `10` in its top bits).
    case reservedLabelType(at: Int)
    /// A label of more than 63 bytes (only when building a name: the wire format cannot express one).
    case labelTooLong(Int)
    /// An empty label inside a name (`a..b`).
    case emptyLabel
    /// A name longer than 255 bytes on the wire.
    case nameTooLong(Int)
    /// A section claims more entries than the rest of the message could hold.
    case countTooLarge(section: String, count: Int)
    /// A record's data is not what its type needs (an A record of 5 bytes, an SRV whose target runs past
    /// the data).
    case badRecordData(type: UInt16, at: Int)
    /// A TXT string over 255 bytes, or record data over 65535, or a section over 65535 entries: cannot be
    /// written.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .truncated(let offset): "the message ends inside a field at byte \(offset)"
        case .pointerOutOfRange(let offset): "a name's compression pointer at byte \(offset) leads outside the message"
        case .compressionLoop(let offset): "a name's compression pointer at byte \(offset) does not lead backwards"
        case .reservedLabelType(let offset): "a label at byte \(offset) has a reserved type"
        case .labelTooLong(let length): "a label of \(length) bytes (63 at most)"
        case .emptyLabel: "an empty label inside a name"
        case .nameTooLong(let length): "a name of \(length) bytes (255 at most)"
        case .countTooLarge(let section, let count): "\(count) \(section) records cannot fit in the message"
        case .badRecordData(let type, let offset): "record data of type \(type) at byte \(offset) is malformed"
        case .tooLarge(let what): "\(what) is too large for a DNS message"
        }
    }
}
