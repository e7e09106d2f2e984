import NIOCore
import UDP

/// A datagram received by an ``AsyncUDPSocket``: its bytes, its sender and what the kernel said about it.
///
/// The payload is a `ByteBuffer` slice of NIO's read buffer, so nothing is copied until you ask for ``bytes``.
/// Echo it back with ``OutboundDatagram/init(replyingTo:with:)``, which reuses NIO's copy of the sender's address.
public struct InboundDatagram: Sendable {
    /// NIO's envelope: the payload, the sender in NIO's form and the raw metadata.
    public var envelope: AddressedEnvelope<ByteBuffer>
    let options: ReceiveOptions

    init(envelope: AddressedEnvelope<ByteBuffer>, options: ReceiveOptions) {
        self.envelope = envelope
        self.options = options
    }

    /// The payload.
    public var buffer: ByteBuffer { envelope.data }

    /// The payload copied into an array: for code where convenience beats speed.
    public var bytes: [UInt8] { Array(envelope.data.readableBytesView) }

    /// The peer that sent it, as the kernel reports it: a dual-stack socket reports IPv4 peers v4-mapped (see
    /// `SocketAddress.unmapped`). Anyone can forge it; authenticate what matters.
    public var sender: UDP.SocketAddress {
        // A datagram channel only ever reports IP addresses.
        UDP.SocketAddress(envelope.remoteAddress)!
    }

    /// The ECN bits the datagram arrived with, when ``AsyncUDPSocket/Configuration/explicitCongestionNotification``
    /// is on; nil otherwise.
    public var ecn: NIOExplicitCongestionNotificationState? {
        options.reportsECN ? envelope.metadata?.ecnState ?? .transportNotCapable : nil
    }

    /// The local address the datagram was sent to, when ``AsyncUDPSocket/Configuration/receivePacketInfo`` is on:
    /// tells a unicast datagram from a broadcast or multicast one, and which address of a wildcard-bound socket
    /// to answer from.
    public var destination: UDP.IPAddress? {
        guard options.reportsPacketInfo, let info = envelope.metadata?.packetInfo else { return nil }
        return UDP.IPAddress(info.destinationAddress)
    }

    /// The index of the interface it arrived on, when ``AsyncUDPSocket/Configuration/receivePacketInfo`` is on.
    public var interfaceIndex: UInt32? {
        guard options.reportsPacketInfo, let info = envelope.metadata?.packetInfo else { return nil }
        return UInt32(truncatingIfNeeded: info.interfaceIndex)
    }

    /// With GRO on (``AsyncUDPSocket/Configuration/receiveOffload``): the size of each datagram of a train the
    /// kernel coalesced (the last may be shorter); nil for a single datagram.
    public var segmentSize: Int? {
        guard let size = envelope.metadata?.segmentSize, size > 0, size < envelope.data.readableBytes else {
            return nil
        }
        return size
    }

    /// The datagrams of a GRO train as slices of the payload (no copy); just ``buffer`` for a single datagram.
    public var segments: [ByteBuffer] { splitTrain.map(\.envelope.data) }

    /// The datagrams of a GRO train, each with its own envelope; just this datagram when it is not a train.
    var splitTrain: [InboundDatagram] {
        guard let size = segmentSize else { return [self] }
        var rest = envelope.data
        var datagrams: [InboundDatagram] = []
        datagrams.reserveCapacity((rest.readableBytes + size - 1) / size)
        while rest.readableBytes > 0, let piece = rest.readSlice(length: Swift.min(size, rest.readableBytes)) {
            var single = envelope
            single.data = piece
            single.metadata?.segmentSize = nil
            datagrams.append(InboundDatagram(envelope: single, options: options))
        }
        return datagrams
    }

    /// True when the datagram filled its read slot (``AsyncUDPSocket/Configuration/maximumDatagramSize``), so the
    /// kernel may have cut its tail: NIO does not report `MSG_TRUNC`. Raise the maximum if this is ever true.
    public var mayBeTruncated: Bool { envelope.data.readableBytes >= options.slotSize }
}

extension InboundDatagram: CustomStringConvertible {
    public var description: String { "\(envelope.data.readableBytes) bytes from \(sender)" }
}
