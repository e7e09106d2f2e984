/// A decoded datagram: its ``FrameHeader`` and the payload after it. See ``FrameHeader`` for the format.
///
/// ```swift
/// let frame = Frame(header: FrameHeader(sequence: 7), payload: Array("hello".utf8))
/// try socket.send(try frame.encoded(), to: peer)
/// let received = try Frame(decoding: datagram.payload)   // FrameError on anything malformed
/// ```
///
/// `Frame` copies the payload into an array. On a hot path, decode ``FrameHeader`` straight from the
/// receive buffer and slice the payload, and encode with ``encode(into:)`` into a buffer you reuse.
public struct Frame: Sendable, Hashable {
    /// Sequence number, request id and reply flag.
    public var header: FrameHeader
    /// The application's bytes.
    public var payload: [UInt8]

    /// Creates a frame to encode.
    public init(header: FrameHeader, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }

    /// Decodes and checks a whole datagram.
    ///
    /// - Throws: ``FrameError`` for anything malformed; see ``FrameHeader/init(decoding:)``.
    public init(decoding datagram: UnsafeRawBufferPointer) throws(FrameError) {
        let header = try FrameHeader(decoding: datagram)
        self.header = header
        self.payload = Array(datagram[header.size...])
    }

    /// Decodes and checks a whole datagram held in any collection of bytes (`[UInt8]`, `ArraySlice`, …).
    ///
    /// - Throws: ``FrameError`` for anything malformed; see ``FrameHeader/init(decoding:)``.
    public init(decoding datagram: some Collection<UInt8>) throws(FrameError) {
        // Typed throws do not pass through the rethrowing `withContiguousStorageIfAvailable`, so the
        // result travels in a `Result`.
        let decoded =
            datagram.withContiguousStorageIfAvailable { bytes in
                Result { () throws(FrameError) in try Frame(decoding: UnsafeRawBufferPointer(bytes)) }
            }
            ?? Array(datagram).withUnsafeBytes { bytes in
                Result { () throws(FrameError) in try Frame(decoding: bytes) }
            }
        self = try decoded.get()
    }

    /// Bytes the encoded frame takes: header and payload.
    public var encodedSize: Int { header.size + payload.count }

    /// Encodes the frame at the start of `buffer` without allocating.
    ///
    /// - Returns: The bytes written, ``encodedSize``.
    /// - Throws: ``FrameError/payloadTooLong(_:)``, or ``FrameError/shortFrame(needed:got:)`` when `buffer`
    ///   is smaller than ``encodedSize``.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) throws(FrameError) -> Int {
        if payload.count > FrameHeader.maximumPayloadLength { throw .payloadTooLong(payload.count) }
        guard buffer.count >= encodedSize else { throw .shortFrame(needed: encodedSize, got: buffer.count) }
        let headerSize = try header.encode(payloadLength: payload.count, into: buffer)
        payload.withUnsafeBytes { bytes in
            UnsafeMutableRawBufferPointer(rebasing: buffer[headerSize...]).copyMemory(from: bytes)
        }
        return encodedSize
    }

    /// Encodes the frame into a new array: convenient, one allocation.
    ///
    /// - Throws: ``FrameError/payloadTooLong(_:)`` for a payload over 65,535 bytes.
    public func encoded() throws(FrameError) -> [UInt8] {
        if payload.count > FrameHeader.maximumPayloadLength { throw .payloadTooLong(payload.count) }
        var bytes = [UInt8](repeating: 0, count: encodedSize)
        // Typed throws do not pass through the rethrowing `withUnsafeMutableBytes` either.
        _ = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(FrameError) in try encode(into: buffer) }
        }.get()
        return bytes
    }
}
