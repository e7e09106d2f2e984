/// What the kernel said about one received datagram, besides its bytes.
public struct ReceiveInfo: Sendable, Hashable {
    /// Bytes stored in the caller's buffer.
    public var count: Int
    /// The datagram's real length on the wire, which is larger than `count` when it was truncated.
    /// (Linux reports it; on other systems it equals `count`.)
    public var length: Int
    /// The peer that sent it, as the kernel reports it: a dual-stack socket reports IPv4 peers v4-mapped
    /// (see ``SocketAddress/unmapped``). Anyone can forge it; authenticate what matters.
    public var sender: SocketAddress
    /// True when the buffer was too small and the kernel dropped the datagram's tail (`MSG_TRUNC`).
    public var isTruncated: Bool
    /// The local address the datagram was sent to, when packet info is on
    /// (``UDPSocket/setReceivePacketInfo(_:)``): tells a unicast datagram from a broadcast or multicast one.
    public var destination: IPAddress?
    /// The index of the interface it arrived on, when packet info is on.
    public var interfaceIndex: UInt32?
    /// The address a reply should come from, when packet info is on: ``destination`` for a unicast datagram;
    /// for an IPv4 broadcast or multicast one, the receiving interface's address the kernel picks
    /// (`ipi_spec_dst`); nil for IPv6 multicast, where the kernel had better choose. A server bound to a
    /// wildcard address answers from it (``UDPSocket/send(_:replyingTo:)-(Collection<UInt8>,_)``) so that a client that checks the
    /// source (any connected socket) accepts the reply.
    public var replySource: IPAddress?
    /// The received IPv4 TTL or IPv6 hop limit, when ``UDPSocket/setReceiveHopLimit(_:)`` is on: how many
    /// routers the datagram may still cross (255 sent by a neighbour is 255 here, which RFC 5082 uses to tell
    /// a neighbour from a forger further away).
    public var hopLimit: UInt8?
    /// The kernel's running count of datagrams dropped for this socket because its receive queue was full,
    /// when ``UDPSocket/setReceiveDropCount(_:)`` is on. Cumulative, so the difference between two readings
    /// is the loss in between. Linux attaches the count only once it is above zero, so nil means "no drop
    /// yet" when the option is on.
    public var kernelDropCount: UInt32?
    /// When the kernel received the datagram (`CLOCK_REALTIME`), when receive timestamps are on
    /// (``UDPSocket/setReceiveTimestamps(_:)``). A wall-clock time: compare it with other kernel timestamps or
    /// ``WallClockTime/now()``, never with a ``MonotonicInstant``, and expect a clock step to make an interval
    /// wrong, even negative.
    public var timestamp: WallClockTime?

    /// Creates a report from its parts: for tests, and for code that receives by other means (an event loop
    /// that adopted the descriptor). The library's own receives fill it in; a field left nil was not reported.
    public init(
        count: Int,
        length: Int,
        sender: SocketAddress,
        isTruncated: Bool,
        destination: IPAddress? = nil,
        interfaceIndex: UInt32? = nil,
        kernelDropCount: UInt32? = nil,
        timestamp: WallClockTime? = nil,
        replySource: IPAddress? = nil,
        hopLimit: UInt8? = nil
    ) {
        self.count = count
        self.length = length
        self.sender = sender
        self.isTruncated = isTruncated
        self.destination = destination
        self.interfaceIndex = interfaceIndex
        self.kernelDropCount = kernelDropCount
        self.timestamp = timestamp
        self.replySource = replySource
        self.hopLimit = hopLimit
    }
}

/// A received datagram with its bytes in an array: for code where convenience beats speed.
/// Hot paths receive into buffers they reuse (``UDPSocket/receive(into:)-(UnsafeMutableRawBufferPointer)``, ``DatagramBatch``).
public struct Datagram: Sendable, Hashable {
    /// The bytes received (at most the buffer size asked for).
    public var payload: [UInt8]
    /// The sender, the real length, truncation and packet info.
    public var info: ReceiveInfo

    /// Creates a datagram from its bytes and the kernel's report on them (whose ``ReceiveInfo/count`` is
    /// `payload.count`): for tests, and for code that receives by other means.
    public init(payload: [UInt8], info: ReceiveInfo) {
        self.payload = payload
        self.info = info
    }

    /// The peer that sent it.
    public var sender: SocketAddress { info.sender }
    /// True when the datagram was longer than the buffer; ``length`` is its real size.
    public var isTruncated: Bool { info.isTruncated }
    /// The datagram's real length.
    public var length: Int { info.length }
}
