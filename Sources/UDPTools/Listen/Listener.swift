import UDP

/// The engine of `udp listen`, the tutorial's multi-peer receive loop: one socket serves every peer, each
/// datagram is handed over with its sender's running count, and the peers are counted in a bounded
/// ``PeerTable``.
///
/// ```swift
/// var listener = Listener(maximumPeers: 4096)
/// try listener.run(socket, until: stop) { event in print(event) }
/// ```
public struct Listener {
    /// What arrived.
    public enum Event {
        /// A datagram (opened, with a key) from `peer`, its `number`-th; `payload` is valid during the call.
        /// `length` is its real length, more than the payload's when it was truncated.
        case datagram(peer: SocketAddress, number: Int, payload: ArraySlice<UInt8>, length: Int, isTruncated: Bool)
        /// A datagram from `peer` that did not open under the key: not counted as the peer's. Only a listener
        /// with an opener (the package trait `Sealing`) has one; without the trait ``SealRejection`` is `Never`,
        /// and no such event can be made.
        case rejected(peer: SocketAddress, reason: SealRejection)
    }

    /// Every peer's traffic, bounded.
    public private(set) var peers: PeerTable
    /// Opens every datagram, with the package trait `Sealing` and an opener (Listener+Sealing.swift); nil takes
    /// them as they come.
    var sealing: (any DatagramSealing)?
    private var storage: [UInt8]

    /// - Parameters:
    ///   - maximumPeers: The most peers counted at once; the least recently seen are forgotten past that.
    ///   - bufferSize: Bytes kept of each datagram; a longer one is reported truncated, with its length.
    public init(maximumPeers: Int = 4096, bufferSize: Int = 65_535) {
        peers = PeerTable(capacity: maximumPeers)
        storage = [UInt8](repeating: 0, count: bufferSize)
    }

    /// Receives on `socket` until `stop` is requested, sleeping in `poll(2)` while nothing arrives (its
    /// receives never wait, whatever the socket's mode). Peers are shown unmapped (an IPv4 peer of a
    /// dual-stack socket as IPv4).
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        onEvent: (Event) -> Void
    ) throws(UDPError) {
        while !stop.isRequested {
            let received = storage.withUnsafeMutableBytes { bytes in
                Result { () throws(UDPError) in try socket.receiveIfQueued(into: bytes) }
            }
            switch received {
            case .success(let info?):
                handle(info, onEvent)
            case .success(nil):
                _ = try stop.wait(forReadable: socket.descriptor, until: nil)
            case .failure(let error) where error.code == .connectionRefused:
                continue  // an ICMP error about something sent earlier: no datagram is queued
            case .failure(let error):
                throw error
            }
        }
    }

    private mutating func handle(_ info: ReceiveInfo, _ onEvent: (Event) -> Void) {
        let peer = info.sender.unmapped
        var payload = storage[..<info.count]
        if sealing != nil {
            switch sealing!.open(Array(payload)) {
            case .success(let opened):
                payload = opened[...]
            case .failure(let reason):
                onEvent(.rejected(peer: peer, reason: reason))
                return
            }
        }
        let number = peers.record(peer, bytes: info.length)
        onEvent(
            .datagram(peer: peer, number: number, payload: payload, length: info.length, isTruncated: info.isTruncated)
        )
    }
}
