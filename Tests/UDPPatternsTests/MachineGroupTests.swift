import Testing
import UDP
import UDPPatterns

/// A machine that answers each datagram on the socket it came from, records every input with the socket number it
/// saw, wakes once at `deadline`, and on `stop()` queues a goodbye on each of its sockets and finishes.
private struct Echoer: DatagramMachine {
    var name: String
    var socketCount: Int
    var deadline: MonotonicInstant?
    var datagramSockets: [Int] = []
    var errorSockets: [Int] = []
    /// Each report's socket, and its datagram's (or -1 for a kernel timestamp).
    var reportSockets: [[Int]] = []
    var timeouts: [MonotonicInstant] = []
    var outbox: [OutboundDatagram] = []
    var events: [String] = []
    var stopped = false

    init(_ name: String, sockets: Int = 1, deadline: MonotonicInstant? = nil) {
        self.name = name
        socketCount = sockets
        self.deadline = deadline
    }

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        datagramSockets.append(datagram.socket)
        outbox.append(OutboundDatagram(Array(datagram.payload), to: datagram.sender, socket: datagram.socket))
        events.append("\(name) got \(String(decoding: datagram.payload, as: UTF8.self)) on \(datagram.socket)")
    }

    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        errorSockets.append(socket)
    }

    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        switch report {
        case .sent(let datagram, let socket, _, _), .failed(let datagram, let socket, _):
            reportSockets.append([socket, datagram.socket])
        case .kernelTimestamp(_, let socket, _): reportSockets.append([socket, -1])
        }
    }

    mutating func handleTimeout(at now: MonotonicInstant) {
        timeouts.append(now)
        deadline = nil
        events.append("\(name) woke")
    }

    mutating func stop() {
        stopped = true
        for socket in 0..<socketCount { outbox.append(OutboundDatagram(Array("bye".utf8), to: peer, socket: socket)) }
    }

    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        outbox.isEmpty ? nil : outbox.removeFirst()
    }

    mutating func pollEvent() -> String? { events.isEmpty ? nil : events.removeFirst() }

    var nextDeadline: MonotonicInstant? { deadline }

    var isFinished: Bool { stopped }
}

/// A machine of another kind, for the pair: counts datagrams, its events numbers; finishes after `limit` of them.
private struct Counter: DatagramMachine {
    var limit: Int
    var count = 0
    var deadline: MonotonicInstant?
    var events: [Int] = []

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        count += 1
        events.append(datagram.socket * 100 + count)
    }

    mutating func handleTimeout(at now: MonotonicInstant) { deadline = nil }
    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? { nil }
    mutating func pollEvent() -> Int? { events.isEmpty ? nil : events.removeFirst() }
    var nextDeadline: MonotonicInstant? { deadline }
    var isFinished: Bool { count >= limit }
}

private let peer = SocketAddress(.v4(.loopback), port: 9)

private func datagram(_ text: String, socket: Int) -> InboundDatagram {
    InboundDatagram(Array(text.utf8), from: peer, socket: socket)
}

private func seconds(_ count: Int64) -> MonotonicInstant { .zero + .seconds(count) }

/// Everything `machine` gives now: its datagrams, each reported back as sent on its socket, then its events.
private func drain<Machine: DatagramMachine>(
    _ machine: inout Machine,
    at now: MonotonicInstant
) -> (sent: [OutboundDatagram], events: [Machine.Event]) {
    var sent: [OutboundDatagram] = []
    while let datagram = machine.pollTransmit(at: now) {
        sent.append(datagram)
        let sentAt = WallClockTime(nanosecondsSince1970: 0)
        machine.handleSendReport(.sent(datagram, socket: datagram.socket, sentAt: sentAt, stampID: 0), at: now)
    }
    var events: [Machine.Event] = []
    while let event = machine.pollEvent() { events.append(event) }
    return (sent, events)
}

@Suite struct MachineGroupTests {
    @Test func aDatagramReachesTheMemberThatOwnsItsSocketAndTheAnswerLeavesByIt() {
        var group = MachineGroup([Echoer("a", sockets: 2), Echoer("b", sockets: 2)], socketsPerMember: 2)
        #expect(group.socketCount == 4)
        group.handleDatagram(datagram("one", socket: 3), at: .zero)
        group.handleDatagram(datagram("two", socket: 0), at: .zero)
        let (sent, events) = drain(&group, at: .zero)
        #expect(group.members[0].datagramSockets == [0] && group.members[1].datagramSockets == [1])
        // Member order first, each member's own order kept; sockets back in the group's numbering.
        #expect(sent.map(\.socket) == [0, 3])
        #expect(sent.map { String(decoding: $0.payload, as: UTF8.self) } == ["two", "one"])
        #expect(events.map(\.member) == [0, 1])
        #expect(events.map(\.event) == ["a got two on 0", "b got one on 1"])
        // Each send report went back to its sender, in its own numbering.
        #expect(group.members[0].reportSockets == [[0, 0]] && group.members[1].reportSockets == [[1, 1]])
    }

    @Test func deliveryErrorsAndEveryKindOfSendReportAreRoutedBySocket() {
        var group = MachineGroup([Echoer("a", sockets: 2), Echoer("b", sockets: 2)], socketsPerMember: 2)
        let error = DeliveryError(
            origin: .icmp,
            kind: .portUnreachable,
            errno: .connectionRefused,
            offender: peer.ip,
            destination: peer
        )
        group.handleDeliveryError(error, socket: 2, at: .zero)
        group.handleDeliveryError(error, socket: 1, at: .zero)
        let failed = OutboundDatagram([1], to: peer, socket: 3)
        group.handleSendReport(
            .failed(failed, socket: 3, error: UDPError(.send, errno: .networkUnreachable)),
            at: .zero
        )
        group.handleSendReport(
            .kernelTimestamp(id: 7, socket: 2, time: WallClockTime(nanosecondsSince1970: 5)),
            at: .zero
        )
        group.handleSendReport(
            .kernelTimestamp(id: 8, socket: 1, time: WallClockTime(nanosecondsSince1970: 5)),
            at: .zero
        )
        #expect(group.members[0].errorSockets == [1] && group.members[1].errorSockets == [0])
        #expect(group.members[0].reportSockets == [[1, -1]])
        #expect(group.members[1].reportSockets == [[1, 1], [0, -1]])
    }

    @Test func theEarliestDeadlineWakesOnlyTheMembersDue() {
        var group = MachineGroup([
            Echoer("a", deadline: seconds(5)), Echoer("b", deadline: seconds(2)), Echoer("c"),
        ])
        #expect(group.nextDeadline == seconds(2))
        group.handleTimeout(at: seconds(2))
        #expect(group.members.map(\.timeouts) == [[], [seconds(2)], []])
        #expect(group.nextDeadline == seconds(5))
        #expect(drain(&group, at: seconds(2)).events == [.init(member: 1, event: "b woke")])
        group.handleTimeout(at: seconds(6))  // late, as under load: still the one due
        #expect(group.members.map(\.timeouts) == [[seconds(6)], [seconds(2)], []])
        #expect(group.nextDeadline == nil)
    }

    @Test func aFinishedMemberTakesNoMoreInputButItsGoodbyesStillLeave() {
        var group = MachineGroup([Echoer("a", deadline: seconds(1)), Echoer("b", deadline: seconds(3))])
        group.members[0].stop()
        #expect(!group.isFinished)
        // Its deadline no longer counts, and it takes no datagram, error or timeout.
        #expect(group.nextDeadline == seconds(3))
        group.handleDatagram(datagram("late", socket: 0), at: seconds(1))
        group.handleTimeout(at: seconds(3))
        #expect(group.members[0].datagramSockets.isEmpty && group.members[0].timeouts.isEmpty)
        #expect(group.members[1].timeouts == [seconds(3)])
        // What it queued when stopped is sent, and the report of it reaches it.
        let (sent, _) = drain(&group, at: seconds(3))
        #expect(sent.map(\.socket) == [0] && group.members[0].reportSockets == [[0, 0]])
        group.members[1].stop()
        #expect(group.isFinished && group.nextDeadline == nil)
        #expect(drain(&group, at: seconds(3)).sent.map(\.socket) == [1])
    }

    @Test func anEmptyGroupIsFinishedAtOnce() {
        let group = MachineGroup<Echoer>([])
        #expect(group.isFinished && group.nextDeadline == nil && group.socketCount == 0)
    }

    @Test func runOnAFakeClockAsADriverWouldEveryMemberWakesInTurn() {
        var group = MachineGroup([Echoer("a", deadline: seconds(4)), Echoer("b", deadline: seconds(1))])
        var now = MonotonicInstant.zero
        var woke: [(MonotonicInstant, Int)] = []
        while !group.isFinished, let deadline = group.nextDeadline {
            now = deadline
            group.handleTimeout(at: now)
            for event in drain(&group, at: now).events { woke.append((now, event.member)) }
        }
        #expect(woke.map(\.0) == [seconds(1), seconds(4)] && woke.map(\.1) == [1, 0])
    }
}

@Suite struct MachinePairTests {
    @Test func eachMachineGetsItsOwnSocketsAndItsEventsComeTagged() {
        let echoers = MachineGroup([Echoer("a"), Echoer("b")])
        var pair = MachinePair(echoers, Counter(limit: 2), firstSocketCount: echoers.socketCount)
        pair.handleDatagram(datagram("x", socket: 3), at: .zero)
        pair.handleDatagram(datagram("y", socket: 1), at: .zero)
        let (sent, events) = drain(&pair, at: .zero)
        #expect(sent.map(\.socket) == [1])
        #expect(pair.first.members[1].reportSockets == [[0, 0]])
        #expect(events == [.first(.init(member: 1, event: "b got y on 0")), .second(101)])
        #expect(!pair.isFinished)
    }

    @Test func theEarlierDeadlineAndFinishingTogether() {
        var counter = Counter(limit: 1)
        counter.deadline = seconds(2)
        var pair = MachinePair(Echoer("a", deadline: seconds(5)), counter, firstSocketCount: 1)
        #expect(pair.nextDeadline == seconds(2))
        pair.handleTimeout(at: seconds(2))
        #expect(pair.second.deadline == nil && pair.first.timeouts.isEmpty)
        #expect(pair.nextDeadline == seconds(5))
        pair.handleDatagram(datagram("z", socket: 1), at: seconds(3))
        pair.handleDatagram(datagram("z", socket: 1), at: seconds(3))  // finished: not taken
        #expect(pair.second.count == 1 && pair.second.isFinished && !pair.isFinished)
        pair.first.stop()
        #expect(pair.isFinished && pair.nextDeadline == nil)
        #expect(drain(&pair, at: seconds(3)).sent.map(\.socket) == [0])
    }
}
