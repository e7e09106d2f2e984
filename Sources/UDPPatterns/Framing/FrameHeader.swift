/// The header in front of every framed datagram: who it belongs to (a request id), where it falls in a
/// stream (a sequence number), whether it is a reply, and how long its payload is.
///
/// All integers are big-endian (network order):
///
/// | bytes | field | |
/// |---|---|---|
/// | 0 | magic and version | high nibble ``magic`` `0xC`, low nibble ``version`` `1`: the byte `0xC1` |
/// | 1 | flags | bit 0 (`0x01`): a request id follows; bit 1 (`0x02`): a reply; bits 2–7 must be 0 |
/// | 2–3 | payload length | `UInt16`; must equal the bytes after the header exactly |
/// | 4–7 | sequence | `UInt32`, compared as a ``SequenceNumber`` |
/// | 8–15 | request id | `UInt64`, present only with flag bit 0 |
/// | 8 or 16 … | payload | `length` bytes |
///
/// So a frame costs 8 bytes, or 16 with a request id.
///
/// Magic and version share one byte so the header stays 8 bytes with the sequence number aligned at
/// offset 4. `0xC1` can never begin UTF-8 text (`0xC0` and `0xC1` are the two bytes no UTF-8 string
/// contains), so a stray text datagram — `udp send HOST hello` aimed at a framed server — is always
/// refused as ``FrameError/badMagic(_:)``. Past that, the undefined flag bits and the exact length check
/// reject nearly all other garbage. The length field repeats what UDP already knows so a datagram cut
/// short by a small receive buffer, or padded by a middlebox, is reported instead of decoded.
public struct FrameHeader: Sendable, Hashable {
    /// The high nibble of byte 0 in every frame.
    public static let magic: UInt8 = 0xC
    /// The low nibble of byte 0: the only version this code reads and writes.
    public static let version: UInt8 = 1
    /// Bytes of a header without a request id.
    public static let minimumSize = 8
    /// Bytes of a header with a request id: the overhead to budget for.
    public static let maximumSize = 16
    /// The largest payload the 16-bit length field can describe.
    public static let maximumPayloadLength = Int(UInt16.max)

    static let firstByte = magic << 4 | version
    static let hasRequestIDFlag: UInt8 = 0x01
    static let isReplyFlag: UInt8 = 0x02
    static let knownFlags = hasRequestIDFlag | isReplyFlag

    /// The datagram's place in its stream; a reply echoes its request's, so the client can tell which
    /// attempt was answered.
    public var sequence: SequenceNumber
    /// The request this datagram asks or answers, if any.
    public var requestID: RequestID?
    /// Whether this is a reply (flag bit 1) rather than a request or a stream datagram.
    public var isReply: Bool

    /// Creates a header.
    ///
    /// - Parameters:
    ///   - sequence: The datagram's place in its stream.
    ///   - requestID: Set for requests and replies; leave nil for plain stream datagrams (8 bytes saved).
    ///   - isReply: Whether the datagram answers a request.
    public init(sequence: SequenceNumber = 0, requestID: RequestID? = nil, isReply: Bool = false) {
        self.sequence = sequence
        self.requestID = requestID
        self.isReply = isReply
    }

    /// The header's encoded size: 8 bytes, or 16 with a request id.
    public var size: Int { requestID == nil ? Self.minimumSize : Self.maximumSize }

    /// Writes the header for a payload of `payloadLength` bytes at the start of `buffer`, allocating
    /// nothing; the caller puts the payload right after it.
    ///
    /// - Returns: The bytes written, ``size``.
    /// - Throws: ``FrameError/payloadTooLong(_:)`` when the length does not fit 16 bits,
    ///   ``FrameError/shortFrame(needed:got:)`` when `buffer` is smaller than ``size``.
    public func encode(payloadLength: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FrameError) -> Int {
        guard (0...Self.maximumPayloadLength).contains(payloadLength) else {
            throw .payloadTooLong(payloadLength)
        }
        guard buffer.count >= size else { throw .shortFrame(needed: size, got: buffer.count) }
        var flags: UInt8 = isReply ? Self.isReplyFlag : 0
        if requestID != nil { flags |= Self.hasRequestIDFlag }
        buffer[0] = Self.firstByte
        buffer[1] = flags
        buffer.storeBytes(of: UInt16(payloadLength).bigEndian, toByteOffset: 2, as: UInt16.self)
        buffer.storeBytes(of: sequence.rawValue.bigEndian, toByteOffset: 4, as: UInt32.self)
        if let requestID {
            buffer.storeBytes(of: requestID.rawValue.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return size
    }

    /// Reads and checks the header at the start of `datagram`, which must be the whole datagram: the
    /// payload is `datagram[header.size...]`, and nothing is copied.
    ///
    /// - Throws: ``FrameError``: the first check that fails, in the order magic, version, flags, size,
    ///   length. Any input gives a header or an error; nothing is read past `datagram.count`.
    public init(decoding datagram: UnsafeRawBufferPointer) throws(FrameError) {
        guard datagram.count >= 1 else { throw .shortFrame(needed: Self.minimumSize, got: 0) }
        let first = datagram[0]
        guard first >> 4 == Self.magic else { throw .badMagic(first) }
        guard first & 0x0F == Self.version else { throw .badVersion(first & 0x0F) }
        // Flags before size: with the flags known, the size needed is exact (8 or 16).
        guard datagram.count >= 2 else { throw .shortFrame(needed: Self.minimumSize, got: datagram.count) }
        let flags = datagram[1]
        guard flags & ~Self.knownFlags == 0 else { throw .unknownFlags(flags) }
        let hasRequestID = flags & Self.hasRequestIDFlag != 0
        let size = hasRequestID ? Self.maximumSize : Self.minimumSize
        guard datagram.count >= size else { throw .shortFrame(needed: size, got: datagram.count) }
        let declared = Int(UInt16(bigEndian: datagram.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        guard declared == datagram.count - size else {
            throw .badLength(declared: declared, actual: datagram.count - size)
        }
        self.isReply = flags & Self.isReplyFlag != 0
        self.sequence = SequenceNumber(UInt32(bigEndian: datagram.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        self.requestID =
            hasRequestID
            ? RequestID(UInt64(bigEndian: datagram.loadUnaligned(fromByteOffset: 8, as: UInt64.self))) : nil
    }
}
