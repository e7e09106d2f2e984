import UDP
import UDPPatterns

/// The engine of `udp listen`, the tutorial's multi-peer receive loop, as a `DatagramMachine`: one socket
/// serves every peer, each datagram is handed over with its sender's running count, and the peers are counted
/// in a bounded ``PeerTable``. It never sends, never sets a timer and never finishes: ``MachineDriver`` runs it
/// until its stop signal.
///
/// ```swift
/// var listener = Listener(maximumPeers: 4096)
/// let driver = MachineDriver(stop: stop, receiveBufferSize: listener.bufferSize)
/// try driver.run(&listener, on: socket) { event in print(event) }
/// ```
public struct Listener: DatagramMachine {
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
    /// Bytes kept of each datagram: the receive buffer its driver is given (``MachineDriver/receiveBufferSize``).
    public let bufferSize: Int
    /// Events not yet taken, at most ``maximumPendingEvents``; a driver takes each one at once.
    public var pendingEvents: Int { events.count }
    /// Events dropped because ``maximumPendingEvents`` were waiting: only a caller that never polls loses any.
    public var droppedEvents: Int { events.dropped }
    /// The most events held for ``pollEvent()``.
    public var maximumPendingEvents: Int { events.limit ?? 0 }
    /// Opens every datagram, with the package trait `Sealing` and an opener (Listener+Sealing.swift); nil takes
    /// them as they come.
    var sealing: (any DatagramSealing)?
    // A queue that keeps its storage: the payload slices it holds are released as they are polled, so the
    // driver's buffer is never copied, and nothing is allocated per datagram.
    private var events = MachineQueue<Event>(limit: 64)

    /// - Parameters:
    ///   - maximumPeers: The most peers counted at once; the least recently seen are forgotten past that.
    ///   - bufferSize: Bytes kept of each datagram; a longer one is reported truncated, with its length.
    public init(maximumPeers: Int = 4096, bufferSize: Int = 65_535) {
        peers = PeerTable(capacity: maximumPeers)
        self.bufferSize = bufferSize
    }

    /// Counts the datagram under its sender, shown unmapped (an IPv4 peer of a dual-stack socket as IPv4), and
    /// hands it over; a sealed one is opened first, and one that does not open is reported and not counted.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        let peer = datagram.sender.unmapped
        var payload = datagram.payload
        if sealing != nil {
            switch sealing!.open(Array(payload)) {
            case .success(let opened):
                payload = opened[...]
            case .failure(let reason):
                post(.rejected(peer: peer, reason: reason))
                return
            }
        }
        let length = datagram.info.length
        let number = peers.record(peer, bytes: length)
        post(
            .datagram(
                peer: peer,
                number: number,
                payload: payload,
                length: length,
                isTruncated: datagram.info.isTruncated
            )
        )
    }

    /// Nothing to do: a listener has no timer.
    public mutating func handleTimeout(at now: MonotonicInstant) {}

    /// Nothing: a listener never sends.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? { nil }

    /// The next event, in the order the datagrams arrived.
    public mutating func pollEvent() -> Event? {
        events.poll()
    }

    /// Nil: only a datagram moves a listener on.
    public var nextDeadline: MonotonicInstant? { nil }

    private mutating func post(_ event: Event) {
        events.append(event)
    }
}
