import UDP

/// Two machines of different types as one ``DatagramMachine``, so that one driver on one thread runs both: mDNS
/// and SSDP, each a ``MachineGroup`` of its address families, in `udp discover --all`.
///
/// The first machine owns the driver's first ``firstSocketCount`` sockets, the second the rest, which it sees
/// numbered from 0; everything else is as in ``MachineGroup``: each input goes to the machine that owns its
/// socket (a finished one takes no more datagrams, errors or timeouts, but its send reports), the first machine's
/// datagrams and events are given before the second's, ``nextDeadline`` is the earlier of the two, and the pair
/// ``isFinished`` once both are.
///
/// ```swift
/// var pair = MachinePair(mdnsGroup, ssdpGroup, firstSocketCount: mdnsGroup.socketCount)
/// try MachineDriver(stop: stop).run(&pair, on: mdnsSockets + ssdpSockets) { event in
///     switch event {
///     case .first(let mdns): print(mdns)
///     case .second(let ssdp): print(ssdp)
///     }
/// }
/// ```
public struct MachinePair<First: DatagramMachine, Second: DatagramMachine>: DatagramMachine {
    /// An event of either machine.
    public enum Event {
        /// The first machine's.
        case first(First.Event)
        /// The second machine's.
        case second(Second.Event)
    }

    /// The machine on the first ``firstSocketCount`` sockets.
    public var first: First
    /// The machine on the sockets after them.
    public var second: Second
    /// How many of the driver's sockets the first machine owns (0 leaves them all to the second).
    public let firstSocketCount: Int

    /// The pair of `first`, on the driver's first `firstSocketCount` sockets, and `second`, on the rest.
    public init(_ first: First, _ second: Second, firstSocketCount: Int) {
        precondition(firstSocketCount >= 0, "a socket count is never negative")
        self.first = first
        self.second = second
        self.firstSocketCount = firstSocketCount
    }

    /// Hands the datagram to the machine that owns its socket, unless it is finished.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        if datagram.socket < firstSocketCount {
            if !first.isFinished { first.handleDatagram(datagram, at: now) }
        } else if !second.isFinished {
            var local = datagram
            local.socket -= firstSocketCount
            second.handleDatagram(local, at: now)
        }
    }

    /// Hands the error to the machine that owns `socket`, unless it is finished.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        if socket < firstSocketCount {
            if !first.isFinished { first.handleDeliveryError(error, socket: socket, at: now) }
        } else if !second.isFinished {
            second.handleDeliveryError(error, socket: socket - firstSocketCount, at: now)
        }
    }

    /// Hands the report to the machine whose socket sent the datagram, finished or not.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        if report.socket < firstSocketCount {
            first.handleSendReport(report, at: now)
        } else {
            second.handleSendReport(report.shiftingSocket(by: -firstSocketCount), at: now)
        }
    }

    /// Hands the timeout to each machine that is not finished and whose deadline has passed.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        if !first.isFinished, let due = first.nextDeadline, due <= now { first.handleTimeout(at: now) }
        if !second.isFinished, let due = second.nextDeadline, due <= now { second.handleTimeout(at: now) }
    }

    /// The first machine's next datagram, else the second's, with its socket numbered among the driver's.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        if let datagram = first.pollTransmit(at: now) {
            precondition(datagram.socket < firstSocketCount, "the first machine has no socket \(datagram.socket)")
            return datagram
        }
        guard var datagram = second.pollTransmit(at: now) else { return nil }
        datagram.socket += firstSocketCount
        return datagram
    }

    /// The first machine's next event, else the second's.
    public mutating func pollEvent() -> Event? {
        if let event = first.pollEvent() { return .first(event) }
        return second.pollEvent().map(Event.second)
    }

    /// The earlier deadline of the machines not finished.
    public var nextDeadline: MonotonicInstant? {
        let one = first.isFinished ? nil : first.nextDeadline
        guard !second.isFinished, let other = second.nextDeadline else { return one }
        return min(one ?? other, other)
    }

    /// True once both machines are finished.
    public var isFinished: Bool { first.isFinished && second.isFinished }
}

extension MachinePair: Sendable where First: Sendable, Second: Sendable {}
extension MachinePair.Event: Sendable where First.Event: Sendable, Second.Event: Sendable {}
extension MachinePair.Event: Equatable where First.Event: Equatable, Second.Event: Equatable {}
extension MachinePair.Event: Hashable where First.Event: Hashable, Second.Event: Hashable {}
