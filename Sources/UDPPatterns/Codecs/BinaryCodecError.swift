/// Why ``BinaryCodec`` could not encode a value or decode bytes. Decoding any input — truncated, forged or
/// random — ends in a value or one of these errors (or a `DecodingError` from the type's own checks, such
/// as an unknown enum raw value), never a crash.
public enum BinaryCodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended early: a value needed `needed` bytes and `remaining` were left.
    case unexpectedEnd(needed: Int, remaining: Int)
    /// A varint longer than 64 bits.
    case varintOverflow
    /// A varint not in its shortest form (a trailing zero group), which the format forbids so that every
    /// value has exactly one encoding.
    case nonCanonicalVarint
    /// A number too large or too small for the type named.
    case outOfRange(String)
    /// A `Bool` byte other than 0 or 1.
    case invalidBool(UInt8)
    /// An optional's presence byte other than 0 or 1.
    case invalidPresence(UInt8)
    /// A string whose bytes are not valid UTF-8.
    case invalidUTF8
    /// A length or element count larger than the bytes left.
    case countTooLarge(declared: UInt64, remaining: Int)
    /// More elements asked for than the list holds.
    case pastEndOfArray(count: Int)
    /// Bytes left over after the value: the input is not exactly one value of the type.
    case trailingBytes(Int)
    /// Values nested more than ``BinaryCodec/maximumDepth`` deep.
    case tooDeep(limit: Int)
    /// A list of values that encode to no bytes (empty structs), which could not be decoded (encoding only).
    case zeroSizedElements(count: Int)

    /// A sentence for logs: `truncated input: needed 8 bytes, 3 left`.
    public var description: String {
        switch self {
        case .unexpectedEnd(let needed, let remaining):
            "truncated input: needed \(needed) bytes, \(remaining) left"
        case .varintOverflow: "varint longer than 64 bits"
        case .nonCanonicalVarint: "varint not in its shortest form"
        case .outOfRange(let type): "number out of range for \(type)"
        case .invalidBool(let byte): "invalid Bool byte \(byte)"
        case .invalidPresence(let byte): "invalid optional presence byte \(byte)"
        case .invalidUTF8: "string is not valid UTF-8"
        case .countTooLarge(let declared, let remaining): "count \(declared) exceeds the \(remaining) bytes left"
        case .pastEndOfArray(let count): "read past the end of a list of \(count) elements"
        case .trailingBytes(let count): "\(count) bytes left over after the value"
        case .tooDeep(let limit): "values nested more than \(limit) deep"
        case .zeroSizedElements(let count): "a list of \(count) elements that encode to no bytes"
        }
    }
}
