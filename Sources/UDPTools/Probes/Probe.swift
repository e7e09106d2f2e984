/// The payload that `udp ping` and `udp bench` send, and how to find it again in whatever comes back.
///
/// A probe is a 20-byte header, then zero bytes up to the payload size:
///
///     bytes  0..<4    magic, "UDPp"
///     bytes  4..<12   run id, random for each run (and each bench worker), big-endian
///     bytes 12..<20   sequence number, big-endian
///
/// Echo servers differ in where they put the request: an RFC 862 echo sends it back as is, the tutorial's
/// server sends `ack: ` and then the request, others add bytes before or after. ``sequence(in:requestSize:)``
/// finds the probe wherever it is; a reply that holds no probe with this run's id is not ours (foreign).
public struct Probe {
    /// The bytes a probe needs: the smallest `--size`.
    public static let headerSize = 20
    /// "UDPp" in ASCII, so a hex dump shows where a probe starts.
    public static let magic: UInt32 = 0x5544_5070

    /// The id that tells this run's probes from any other's.
    public let runID: UInt64

    /// - Parameter runID: The id every probe of this run carries; random by default, so that two runs (or two
    ///   bench workers) never take each other's replies.
    public init(runID: UInt64 = .random(in: .min ... .max)) {
        self.runID = runID
    }

    /// Writes the header of probe `sequence` at the start of `buffer`, which holds at least ``headerSize`` bytes.
    public func writeHeader(sequence: UInt64, into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Self.headerSize)
        buffer.storeBytes(of: Self.magic.bigEndian, toByteOffset: 0, as: UInt32.self)
        buffer.storeBytes(of: runID.bigEndian, toByteOffset: 4, as: UInt64.self)
        buffer.storeBytes(of: sequence.bigEndian, toByteOffset: 12, as: UInt64.self)
    }

    /// A whole probe of `size` bytes: the header, then zeros.
    public func payload(sequence: UInt64, size: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { writeHeader(sequence: sequence, into: $0) }
        return bytes
    }

    /// The sequence number of this run's probe inside `reply`, or nil when it holds none.
    ///
    /// It looks first at `reply.count - requestSize`, where the probe is when the server added bytes only
    /// before it (0 for an RFC 862 echo, 5 after `ack: `), then at the start, then at every offset.
    public func sequence(in reply: UnsafeRawBufferPointer, requestSize: Int) -> UInt64? {
        guard reply.count >= Self.headerSize else { return nil }
        let last = reply.count - Self.headerSize
        let expected = reply.count - requestSize
        if (0...last).contains(expected), let sequence = sequence(in: reply, at: expected) { return sequence }
        if expected != 0, let sequence = sequence(in: reply, at: 0) { return sequence }
        for offset in stride(from: 1, through: last, by: 1) where offset != expected {
            if let sequence = sequence(in: reply, at: offset) { return sequence }
        }
        return nil
    }

    private func sequence(in reply: UnsafeRawBufferPointer, at offset: Int) -> UInt64? {
        guard UInt32(bigEndian: reply.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) == Self.magic,
            UInt64(bigEndian: reply.loadUnaligned(fromByteOffset: offset + 4, as: UInt64.self)) == runID
        else { return nil }
        return UInt64(bigEndian: reply.loadUnaligned(fromByteOffset: offset + 12, as: UInt64.self))
    }
}
