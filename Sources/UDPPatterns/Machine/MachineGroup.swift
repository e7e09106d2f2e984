import UDP

/// Several machines of one type as one ``DatagramMachine``, so that one driver on one thread runs them all: the
/// IPv4 and IPv6 sessions of a discovery protocol, or a browser per network.
///
/// Each member owns ``socketsPerMember`` consecutive sockets of the driver's, in member order (member `m` owns
/// sockets `m * socketsPerMember` up to the next member's), and sees them numbered from 0, as if its driver ran it
/// alone on them:
///
/// ```swift
/// // Socket 0 is IPv4's, socket 1 IPv6's.
/// var group = MachineGroup([ipv4Browser, ipv6Browser], socketsPerMember: 1)
/// try MachineDriver(stop: stop).run(&group, on: [ipv4Socket, ipv6Socket]) { tagged in
///     print(tagged.member, tagged.event)
/// }
/// ```
///
/// - A datagram, a delivery error or a send report goes to the member that owns its socket, with the socket's
///   number made the member's own.
/// - A datagram a member gives leaves by its socket, numbered among the driver's (the member's number plus its
///   first socket's).
/// - ``nextDeadline`` is the earliest of the members'; ``handleTimeout(at:)`` goes to each member whose deadline
///   has passed, and to no other.
/// - An event comes tagged with its member's index (``Event``).
/// - ``isFinished`` once every member is (at once, with no members). A finished member takes no more datagrams,
///   errors or timeouts, as though its own driver had returned; what it still gives (the goodbyes it queued when
///   told to stop) is sent and handed on, and its send reports still reach it.
///
/// Members are asked for datagrams and events in index order, each until it has none, so each member's own order
/// is kept. Run it on ``socketCount`` sockets: a datagram from a socket past the last member's is a wiring error,
/// and stops the program.
public struct MachineGroup<Member: DatagramMachine>: DatagramMachine {
    /// What a member reported, with which member it was.
    public struct Event {
        /// The member's index in ``MachineGroup/members``.
        public var member: Int
        /// Its event.
        public var event: Member.Event

        /// The event `event` of member `member`.
        public init(member: Int, event: Member.Event) {
            self.member = member
            self.event = event
        }
    }

    /// The machines, in the order of their sockets. Reach a member through it to tell it something the protocol
    /// has no input for (a stop, before its goodbyes are flushed), or to read its counters.
    public var members: [Member]
    /// How many of the driver's sockets each member owns: 1 for a machine on one socket.
    public let socketsPerMember: Int

    /// The group of `members`, each owning `socketsPerMember` sockets.
    public init(_ members: [Member], socketsPerMember: Int = 1) {
        precondition(socketsPerMember > 0, "a member owns at least one socket")
        self.members = members
        self.socketsPerMember = socketsPerMember
    }

    /// How many sockets the driver runs the group on: every member's.
    public var socketCount: Int { members.count * socketsPerMember }

    /// Hands the datagram to the member that owns its socket, unless that member is finished.
    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        let (member, socket) = owner(of: datagram.socket)
        guard !members[member].isFinished else { return }
        var local = datagram
        local.socket = socket
        members[member].handleDatagram(local, at: now)
    }

    /// Hands the error to the member that owns `socket`, unless that member is finished.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        let (member, local) = owner(of: socket)
        guard !members[member].isFinished else { return }
        members[member].handleDeliveryError(error, socket: local, at: now)
    }

    /// Hands the report to the member whose socket sent the datagram, finished or not.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        let (member, _) = owner(of: report.socket)
        members[member].handleSendReport(report.shiftingSocket(by: -member * socketsPerMember), at: now)
    }

    /// Hands the timeout to every member that is not finished and whose deadline has passed.
    public mutating func handleTimeout(at now: MonotonicInstant) {
        for index in members.indices where !members[index].isFinished {
            if let due = members[index].nextDeadline, due <= now { members[index].handleTimeout(at: now) }
        }
    }

    /// The first member's next datagram, else the next member's, with its socket numbered among the driver's.
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        for index in members.indices {
            guard var datagram = members[index].pollTransmit(at: now) else { continue }
            precondition(
                (0..<socketsPerMember).contains(datagram.socket),
                "member \(index) owns sockets 0..<\(socketsPerMember), not \(datagram.socket)"
            )
            datagram.socket += index * socketsPerMember
            return datagram
        }
        return nil
    }

    /// The first member's next event, else the next member's, tagged with its index.
    public mutating func pollEvent() -> Event? {
        for index in members.indices {
            if let event = members[index].pollEvent() { return Event(member: index, event: event) }
        }
        return nil
    }

    /// The earliest deadline of the members not finished.
    public var nextDeadline: MonotonicInstant? {
        var earliest: MonotonicInstant?
        for member in members where !member.isFinished {
            if let due = member.nextDeadline { earliest = min(earliest ?? due, due) }
        }
        return earliest
    }

    /// True once every member is finished.
    public var isFinished: Bool { members.allSatisfy(\.isFinished) }

    /// The member that owns the driver's socket `socket`, and the socket's number among the member's.
    private func owner(of socket: Int) -> (member: Int, socket: Int) {
        precondition(socket >= 0 && socket < socketCount, "no member owns socket \(socket) of \(socketCount)")
        return (socket / socketsPerMember, socket % socketsPerMember)
    }
}

extension MachineGroup: Sendable where Member: Sendable {}
extension MachineGroup.Event: Sendable where Member.Event: Sendable {}
extension MachineGroup.Event: Equatable where Member.Event: Equatable {}
extension MachineGroup.Event: Hashable where Member.Event: Hashable {}

extension SendReport {
    /// The socket the report is about.
    var socket: Int {
        switch self {
        case .sent(_, let socket, _, _), .failed(_, let socket, _), .kernelTimestamp(_, let socket, _): socket
        }
    }

    /// The same report with its socket numbered `delta` further (in the datagram too): from a group's numbering
    /// into a member's, or back.
    func shiftingSocket(by delta: Int) -> SendReport {
        switch self {
        case .sent(var datagram, let socket, let sentAt, let stampID):
            datagram.socket += delta
            return .sent(datagram, socket: socket + delta, sentAt: sentAt, stampID: stampID)
        case .failed(var datagram, let socket, let error):
            datagram.socket += delta
            return .failed(datagram, socket: socket + delta, error: error)
        case .kernelTimestamp(let id, let socket, let time):
            return .kernelTimestamp(id: id, socket: socket + delta, time: time)
        }
    }
}
