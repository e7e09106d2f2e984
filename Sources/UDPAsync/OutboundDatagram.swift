import NIOCore
import UDP

/// A datagram to send from an ``AsyncUDPSocket``: a payload, a recipient, and optionally ECN bits and a GSO
/// segment size. Build a batch of them and hand it to ``AsyncUDPSocket/Outbound/send(contentsOf:)``.
///
/// It has no source address: SwiftNIO ignores packet info on a write, so the kernel's route picks it (see
/// ``UDPServer``'s note on wildcard addresses).
public struct OutboundDatagram: Sendable {
    /// NIO's envelope, as it will be written.
    public var envelope: AddressedEnvelope<ByteBuffer>

    /// A datagram of `buffer` for `recipient`.
    ///
    /// - Parameters:
    ///   - buffer: The payload; with `segmentSize`, the payloads of the whole train back to back.
    ///   - recipient: Where it goes.
    ///   - ecn: The ECN bits to send with (`IP_TOS` / `IPV6_TCLASS` ancillary data).
    ///   - segmentSize: Send `buffer` as a GSO train: the kernel cuts it into datagrams of this many bytes (the
    ///     last may be shorter), at most 64 of them. Linux only.
    ///
    /// With neither, the datagram goes out with the socket's own traffic class. With either, NIO attaches a whole
    /// `IP_TOS` byte holding just the ECN bits (`.transportNotCapable` when `ecn` is nil), which replaces any DSCP
    /// value set with `setTypeOfService` for this datagram.
    public init(
        _ buffer: ByteBuffer,
        to recipient: UDP.SocketAddress,
        ecn: NIOExplicitCongestionNotificationState? = nil,
        segmentSize: Int? = nil
    ) {
        self.envelope = AddressedEnvelope(
            remoteAddress: NIOCore.SocketAddress(recipient),
            data: buffer,
            metadata: Self.metadata(ecn: ecn, segmentSize: segmentSize)
        )
    }

    /// A datagram of `bytes` for `recipient`, copied into a `ByteBuffer`.
    ///
    /// - Parameters:
    ///   - bytes: The payload; with `segmentSize`, the payloads of the whole train back to back.
    ///   - recipient: Where it goes.
    ///   - ecn: The ECN bits to send with, as in ``init(_:to:ecn:segmentSize:)-(ByteBuffer,_,_,_)``.
    ///   - segmentSize: Send it as a GSO train of datagrams of this many bytes. Linux only.
    public init(
        _ bytes: some Sequence<UInt8>,
        to recipient: UDP.SocketAddress,
        ecn: NIOExplicitCongestionNotificationState? = nil,
        segmentSize: Int? = nil
    ) {
        self.init(ByteBuffer(bytes: bytes), to: recipient, ecn: ecn, segmentSize: segmentSize)
    }

    /// An answer to `datagram`, to its sender, reusing NIO's copy of the address (no allocation). A GRO train
    /// answered with its own buffer goes back as a GSO train of the same segment size, so an echo of a train
    /// costs one send.
    ///
    /// - Parameters:
    ///   - datagram: The datagram to answer; the reply goes to its ``InboundDatagram/sender``.
    ///   - buffer: The reply; nil echoes the datagram's own payload.
    public init(replyingTo datagram: InboundDatagram, with buffer: ByteBuffer? = nil) {
        let segmentSize = buffer == nil ? datagram.segmentSize : nil
        self.envelope = AddressedEnvelope(
            remoteAddress: datagram.envelope.remoteAddress,
            data: buffer ?? datagram.envelope.data,
            metadata: Self.metadata(ecn: nil, segmentSize: segmentSize)
        )
    }

    /// Wraps an envelope built for NIO.
    public init(envelope: AddressedEnvelope<ByteBuffer>) {
        self.envelope = envelope
    }

    /// The payload.
    public var buffer: ByteBuffer {
        get { envelope.data }
        set { envelope.data = newValue }
    }

    /// Where it goes.
    public var recipient: UDP.SocketAddress { UDP.SocketAddress(envelope.remoteAddress)! }

    /// The GSO segment size, if it is sent as a train.
    public var segmentSize: Int? { envelope.metadata?.segmentSize }

    private static func metadata(
        ecn: NIOExplicitCongestionNotificationState?,
        segmentSize: Int?
    ) -> AddressedEnvelope<ByteBuffer>.Metadata? {
        guard ecn != nil || segmentSize != nil else { return nil }
        return .init(ecnState: ecn ?? .transportNotCapable, packetInfo: nil, segmentSize: segmentSize)
    }

    /// Refuses what NIO would drop without a word: a datagram over the protocol maximum fails inside NIO with
    /// `EMSGSIZE`, which a batched write has no promise to report.
    func validate() throws(UDPError) {
        let size = segmentSize ?? envelope.data.readableBytes
        // Anything up to the IPv4 maximum fits both families; only larger ones need the recipient's.
        guard size > AddressFamily.inet.maximumPayloadSize else { return }
        let limit = recipient.unmapped.family.maximumPayloadSize
        guard size <= limit else {
            var error = UDPError(.messageTooLarge, .send, address: recipient)
            error.maximumSize = limit
            error.attemptedSize = size
            throw error
        }
    }
}
