import Testing
import UDP
import UDPPatterns
import UDPTools

/// Two sockets on loopback, one machine: socket 0 sends `count` pings to socket 1, which answers each; the
/// machine finishes when every pong is back. A deadline, when set, fires once before the first ping.
private struct PingPongMachine: DatagramMachine {
    enum Event: Equatable {
        case pong(Int, socket: Int)
        case timeout
    }

    let count: Int
    let pongAddress: SocketAddress
    var delay: MonotonicInstant?
    var queue: [OutboundDatagram] = []
    var events: [Event] = []
    var pongs = 0
    var sentReports = 0
    var timedOutAt: MonotonicInstant?

    init(count: Int, to address: SocketAddress, delay: MonotonicInstant? = nil) {
        self.count = count
        pongAddress = address
        self.delay = delay
        if delay == nil { queuePings() }
    }

    mutating func queuePings() {
        for index in 0..<count { queue.append(OutboundDatagram(Array("ping \(index)".utf8), to: pongAddress)) }
    }

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        let text = String(decoding: datagram.payload, as: UTF8.self)
        if datagram.socket == 1, text.hasPrefix("ping ") {
            let reply = Array(("pong " + text.dropFirst(5)).utf8)
            queue.append(OutboundDatagram(reply, to: datagram.sender, socket: 1))
        } else if datagram.socket == 0, text.hasPrefix("pong "), let index = Int(text.dropFirst(5)) {
            pongs += 1
            events.append(.pong(index, socket: datagram.socket))
        }
    }

    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        if case .sent = report { sentReports += 1 }
    }

    mutating func handleTimeout(at now: MonotonicInstant) {
        timedOutAt = now
        events.append(.timeout)
        delay = nil
        queuePings()
    }

    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        queue.isEmpty ? nil : queue.removeFirst()
    }

    mutating func pollEvent() -> Event? {
        events.isEmpty ? nil : events.removeFirst()
    }

    var nextDeadline: MonotonicInstant? { delay }
    var isFinished: Bool { pongs == count }
}

/// A machine that never finishes and records what it was given.
private struct RecordingMachine: DatagramMachine {
    typealias Event = Never
    var outbound: [OutboundDatagram] = []
    var datagrams: [InboundDatagram] = []
    var errors: [(DeliveryError, Int)] = []
    var failures: [UDPError] = []
    var deadline: MonotonicInstant?
    var timeouts = 0

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) { datagrams.append(datagram) }
    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        errors.append((error, socket))
    }
    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        if case .failed(_, _, let error) = report { failures.append(error) }
    }
    mutating func handleTimeout(at now: MonotonicInstant) {
        timeouts += 1
        deadline = nil
    }
    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        outbound.isEmpty ? nil : outbound.removeFirst()
    }
    mutating func pollEvent() -> Never? { nil }
    var nextDeadline: MonotonicInstant? { deadline }
    var isFinished: Bool { !errors.isEmpty || !datagrams.isEmpty }
}

@Suite struct MachineDriverTests {
    private func loopbackPair() throws -> [SharedUDPSocket] {
        [
            SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0))),
            SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0))),
        ]
    }

    @Test func runsAMachineOnTwoSocketsUntilItFinishes() throws {
        let sockets = try loopbackPair()
        var machine = PingPongMachine(count: 5, to: try sockets[1].socket.localAddress)
        var events: [PingPongMachine.Event] = []
        let ending = try MachineDriver(stop: StopSignal()).run(&machine, on: sockets) { events.append($0) }
        #expect(ending == .finished)
        #expect(events == (0..<5).map { .pong($0, socket: 0) })
        // Five pings and five pongs, each reported as sent.
        #expect(machine.sentReports == 10)
    }

    @Test func firesTheMachinesDeadlineNeverEarly() throws {
        let sockets = try loopbackPair()
        let deadline = MonotonicInstant.now() + .milliseconds(30)
        var machine = PingPongMachine(count: 1, to: try sockets[1].socket.localAddress, delay: deadline)
        var events: [PingPongMachine.Event] = []
        let ending = try MachineDriver(stop: StopSignal()).run(&machine, on: sockets) { events.append($0) }
        #expect(ending == .finished)
        #expect(events == [.timeout, .pong(0, socket: 0)])
        #expect(try #require(machine.timedOutAt) >= deadline)
    }

    @Test func endsAtTheRunsDeadlineOrAtAStop() throws {
        let socket = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        var machine = RecordingMachine()
        let stop = try StopSignal()
        let driver = MachineDriver(stop: stop)
        let deadline = MonotonicInstant.now() + .milliseconds(20)
        #expect(try driver.run(&machine, on: socket, until: deadline) { _ in } == .deadlinePassed)
        #expect(MonotonicInstant.now() >= deadline)
        stop.request()
        #expect(try driver.run(&machine, on: socket) { _ in } == .stopped)
    }

    @Test func handsOverTheDatagramWithItsPacketInfoAndTruncation() throws {
        let socket = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try socket.setReceivePacketInfo(true)
        let sender = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try sender.send(Array(repeating: 7, count: 100), to: try socket.localAddress)
        var machine = RecordingMachine()
        var driver = MachineDriver(stop: try StopSignal(), receiveBufferSize: 8)
        driver.datagramsPerWake = 1
        #expect(try driver.run(&machine, on: socket, until: .now() + .seconds(5)) { _ in } == .finished)
        let datagram = try #require(machine.datagrams.first)
        #expect(datagram.payload.count == 8)
        #expect(datagram.info.isTruncated)
        #expect(datagram.info.length == 100)
        #expect(datagram.sender == (try sender.localAddress))
        #expect(datagram.info.destination == IPAddress("127.0.0.1"))
        #expect(datagram.socket == 0)
    }

    @Test func handsOverICMPErrorsFromTheErrorQueue() throws {
        let socket = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try socket.setReceiveErrors(true)
        // A port that nobody listens on: bound, read back, closed.
        let closed = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let destination = try closed.localAddress
        try closed.close()
        var machine = RecordingMachine()
        machine.outbound = [OutboundDatagram([1, 2, 3], to: destination)]
        let ending = try MachineDriver(stop: try StopSignal()).run(&machine, on: socket, until: .now() + .seconds(5)) {
            _ in
        }
        #expect(ending == .finished)
        let (error, index) = try #require(machine.errors.first)
        #expect(error.kind == .portUnreachable)
        #expect(error.destination == destination)
        #expect(error.quotedPayload == [1, 2, 3])
        #expect(index == 0)
    }

    @Test func throwsASendErrorThatIsNotTheLinks() throws {
        let socket = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        var machine = RecordingMachine()
        // An IPv4 socket cannot send to an IPv6 peer: a caller's mistake, not the link's, so the run ends.
        machine.outbound = [OutboundDatagram([1], to: SocketAddress(IPAddress("::1")!, port: 9))]
        #expect(throws: UDPError.self) {
            try MachineDriver(stop: try StopSignal()).run(&machine, on: socket, until: .now() + .seconds(5)) { _ in }
        }
        #expect(machine.failures.isEmpty)
    }
}
