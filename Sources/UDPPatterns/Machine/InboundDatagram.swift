import UDP

/// A datagram handed to a ``DatagramMachine``, with what the kernel said of it.
public struct InboundDatagram: Sendable {
    /// Its bytes: the first `ReceiveInfo.count` of them, all there is unless `ReceiveInfo.isTruncated`.
    public var payload: ArraySlice<UInt8>
    /// What the kernel reported: the sender (anyone can forge it), the address and interface it arrived on,
    /// the hop limit, truncation.
    public var info: ReceiveInfo
    /// When it arrived, on the wall clock: the kernel's receive timestamp when the socket has them on, else
    /// the driver's reading just after the receive.
    public var receivedAt: WallClockTime
    /// Which of the driver's sockets it arrived on, from 0.
    public var socket: Int

    /// A datagram from its parts: the driver's, or a test's.
    public init(payload: ArraySlice<UInt8>, info: ReceiveInfo, receivedAt: WallClockTime, socket: Int = 0) {
        self.payload = payload
        self.info = info
        self.receivedAt = receivedAt
        self.socket = socket
    }

    /// A datagram from `sender` with no packet information, received at the epoch: for tests, which add what
    /// their protocol checks (`info.hopLimit`, `info.interfaceIndex`).
    public init(_ payload: some Collection<UInt8>, from sender: SocketAddress, socket: Int = 0) {
        let bytes = ArraySlice(payload)
        self.init(
            payload: bytes,
            info: ReceiveInfo(count: bytes.count, length: bytes.count, sender: sender, isTruncated: false),
            receivedAt: WallClockTime(nanosecondsSince1970: 0),
            socket: socket
        )
    }

    /// The sender, as the kernel reported it.
    public var sender: SocketAddress { info.sender }
}
