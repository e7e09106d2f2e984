import UDP

/// ICMP errors counted by kind, for a server's `--stats`: which of its peers are unreachable, and why.
public struct ICMPErrorCounts: Sendable, Equatable, CustomStringConvertible {
    /// Port unreachable: nobody listens on the peer's port any more.
    public var portUnreachable = 0
    /// Host unreachable: the peer's host did not answer on its link.
    public var hostUnreachable = 0
    /// Network unreachable: no route to the peer's network.
    public var networkUnreachable = 0
    /// Administratively prohibited: a firewall refused the datagram.
    public var administrativelyProhibited = 0
    /// Packet too big: a router's link was smaller than the datagram, which it could not fragment.
    public var packetTooBig = 0
    /// Time exceeded: the hop limit (TTL) ran out on the way, or the peer gave up reassembling fragments.
    public var timeExceeded = 0
    /// Local refusals of a datagram over the path MTU.
    public var messageTooLarge = 0
    /// Any other ICMP type and code.
    public var other = 0

    /// All counts zero.
    public init() {}

    /// Counts one event of `kind`.
    public mutating func add(_ kind: DeliveryError.Kind) {
        switch kind {
        case .portUnreachable: portUnreachable += 1
        case .hostUnreachable: hostUnreachable += 1
        case .networkUnreachable: networkUnreachable += 1
        case .administrativelyProhibited: administrativelyProhibited += 1
        case .packetTooBig: packetTooBig += 1
        case .timeExceeded: timeExceeded += 1
        case .messageTooLarge: messageTooLarge += 1
        case .other: other += 1
        }
    }

    /// Each kind's name (as `DeliveryError.Kind.name`) and count, in a fixed order.
    public var byKind: [(name: String, count: Int)] {
        [
            ("port_unreachable", portUnreachable), ("host_unreachable", hostUnreachable),
            ("network_unreachable", networkUnreachable), ("administratively_prohibited", administrativelyProhibited),
            ("packet_too_big", packetTooBig), ("time_exceeded", timeExceeded),
            ("message_too_large", messageTooLarge), ("other", other),
        ]
    }

    /// Events of every kind together.
    public var total: Int { byKind.reduce(0) { $0 + $1.count } }

    /// Each kind's counts added: how a server sums up its workers.
    public static func + (lhs: ICMPErrorCounts, rhs: ICMPErrorCounts) -> ICMPErrorCounts {
        var sum = lhs
        sum.portUnreachable += rhs.portUnreachable
        sum.hostUnreachable += rhs.hostUnreachable
        sum.networkUnreachable += rhs.networkUnreachable
        sum.administrativelyProhibited += rhs.administrativelyProhibited
        sum.packetTooBig += rhs.packetTooBig
        sum.timeExceeded += rhs.timeExceeded
        sum.messageTooLarge += rhs.messageTooLarge
        sum.other += rhs.other
        return sum
    }

    /// `3 (port unreachable 2, time exceeded 1)`: the total, then each kind seen.
    public var description: String {
        let seen = byKind.filter { $0.count > 0 }.map { "\($0.name.replacingUnderscores) \($0.count)" }
        return seen.isEmpty ? "0" : "\(total) (\(seen.joined(separator: ", ")))"
    }

    /// Reads every event queued on `socket` and counts it: what a loop must do when poll(2) reports `POLLERR`,
    /// or the queue keeps it awake.
    public mutating func drain(_ socket: borrowing UDPSocket) {
        while let event = try? socket.receiveError() { add(event.kind) }
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
