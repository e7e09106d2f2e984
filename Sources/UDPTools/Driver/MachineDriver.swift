import UDP
import UDPPatterns

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a `DatagramMachine` (UDPPatterns) on sockets: the one loop of the engines that waits on a descriptor.
///
/// It sleeps in `poll(2)` on the sockets and the ``StopSignal`` until a datagram, an error, the machine's
/// deadline or the run's arrives; reads each ready socket's error queue (ICMP errors, kernel send timestamps)
/// and then up to ``datagramsPerWake`` datagrams, each with its packet information and a wall-clock time; hands
/// every one to the machine at the monotonic instant it was read; and after each, sends what the machine gives
/// (from the source address and out of the interface it names) and hands on its events. The machine decides
/// everything else, so what it does on the wire is what its fake-clock tests see.
///
/// ```swift
/// let socket = try UDPSocket(bindingTo: .any(.inet))
/// var machine = SomeMachine(...)
/// let ending = try MachineDriver(stop: stop).run(&machine, on: socket) { event in print(event) }
/// ```
///
/// A send that fails with an error that stops nothing (an ICMP error an earlier datagram drew, the interface
/// gone, no route) is reported to the machine (`SendReport.failed`); any other error of a
/// send or a receive ends the run, thrown.
public struct MachineDriver {
    /// Why a run ended.
    public enum Ending: Sendable, Hashable {
        /// The machine said it was done (`DatagramMachine.isFinished`).
        case finished
        /// The stop signal was raised.
        case stopped
        /// The run's deadline passed.
        case deadlinePassed
    }

    /// The signal that ends a run at once.
    public let stop: StopSignal
    /// The largest datagram read whole; a longer one reaches the machine truncated (`ReceiveInfo.isTruncated`).
    public var receiveBufferSize: Int
    /// The most datagrams read from one socket before the driver looks at its clock, the machine's deadline and
    /// the stop signal again: under a flood the queue never empties, and timers must still fire.
    public var datagramsPerWake = 64
    /// Whether every send error goes to the machine as `SendReport.failed(_:socket:error:)`, rather than only
    /// those that stop nothing: for a server that answers whoever writes, where the address or size of one
    /// peer's reply (port 0, a prefix past the datagram limit, a firewall's refusal) must not end everyone's
    /// service. Errors of a receive still end the run.
    public var reportsEverySendError = false

    /// A driver stopped by `stop`, reading datagrams of up to `receiveBufferSize` bytes.
    public init(stop: StopSignal, receiveBufferSize: Int = 65_535) {
        self.stop = stop
        self.receiveBufferSize = receiveBufferSize
    }

    /// Runs `machine` on one socket (socket 0) until it finishes, `stop` is raised, or `deadline` passes.
    @discardableResult
    public func run<Machine: DatagramMachine>(
        _ machine: inout Machine,
        on socket: borrowing UDPSocket,
        until deadline: MonotonicInstant? = nil,
        onEvent: (Machine.Event) -> Void
    ) throws(UDPError) -> Ending {
        var loop = Loop(descriptors: [socket.descriptor], bufferSize: receiveBufferSize)
        return try loop.run(&machine, driver: self, until: deadline, onEvent: onEvent) { _, body throws(UDPError) in
            try body(socket)
        }
    }

    /// Runs `machine` on several sockets, numbered by their place in `sockets`, until it finishes, `stop` is
    /// raised, or `deadline` passes.
    @discardableResult
    public func run<Machine: DatagramMachine>(
        _ machine: inout Machine,
        on sockets: [SharedUDPSocket],
        until deadline: MonotonicInstant? = nil,
        onEvent: (Machine.Event) -> Void
    ) throws(UDPError) -> Ending {
        precondition(!sockets.isEmpty, "a machine needs a socket to run on")
        var loop = Loop(descriptors: sockets.map(\.descriptor), bufferSize: receiveBufferSize)
        return try loop.run(&machine, driver: self, until: deadline, onEvent: onEvent) { index, body throws(UDPError) in
            try body(sockets[index].socket)
        }
    }
}

extension MachineDriver {
    /// Sends what `machine` has to send now and hands on its events, without waiting for anything: after a
    /// run, for the last words a machine queues when told it is stopping (an mDNS responder's goodbyes).
    public func flush<Machine: DatagramMachine>(
        _ machine: inout Machine,
        on socket: borrowing UDPSocket,
        onEvent: (Machine.Event) -> Void
    ) throws(UDPError) {
        var loop = Loop(descriptors: [socket.descriptor], bufferSize: 1)
        try loop.flush(&machine, at: .now(), onEvent) { _, body throws(UDPError) in try body(socket) }
    }

    /// Sends what `machine` has to send now on `sockets` and hands on its events, without waiting.
    public func flush<Machine: DatagramMachine>(
        _ machine: inout Machine,
        on sockets: [SharedUDPSocket],
        onEvent: (Machine.Event) -> Void
    ) throws(UDPError) {
        var loop = Loop(descriptors: sockets.map(\.descriptor), bufferSize: 1)
        try loop.flush(&machine, at: .now(), onEvent) { index, body throws(UDPError) in try body(sockets[index].socket)
        }
    }

    /// The errors of a send that stop nothing: reported to the machine, which decides. The ICMP ones (a
    /// pending error from an earlier datagram: this one never left) and those of a link that went away.
    static func isPassing(_ error: UDPError) -> Bool {
        if error.isFromICMP { return true }
        guard let errno = error.errno else { return false }
        return errno == .noSuchDevice || errno == .networkUnreachable || errno == .hostUnreachable
            || errno == .addressNotAvailable
    }

    /// One run's state: the poll set, the receive buffer, each socket's send count and multicast interface.
    private struct Loop {
        typealias WithSocket = (Int, (borrowing UDPSocket) throws(UDPError) -> Void) throws(UDPError) -> Void

        var poll = PollSet()
        let descriptors: [CInt]
        var buffer: [UInt8]
        // Sends counted per socket: the number the kernel gives each one's send timestamp.
        var sendCounts: [UInt32]
        // The multicast interface each socket was last set to, so that a run of sends to one group sets it once.
        var multicastInterfaces: [UInt32?]
        // The driver's ``MachineDriver/reportsEverySendError``, for the whole run.
        var reportsEverySendError = false

        init(descriptors: [CInt], bufferSize: Int) {
            self.descriptors = descriptors
            buffer = [UInt8](repeating: 0, count: max(bufferSize, 1))
            sendCounts = Array(repeating: 0, count: descriptors.count)
            multicastInterfaces = Array(repeating: nil, count: descriptors.count)
            for descriptor in descriptors { poll.add(descriptor) }
        }

        mutating func run<Machine: DatagramMachine>(
            _ machine: inout Machine,
            driver: MachineDriver,
            until deadline: MonotonicInstant?,
            onEvent: (Machine.Event) -> Void,
            withSocket: WithSocket
        ) throws(UDPError) -> Ending {
            reportsEverySendError = driver.reportsEverySendError
            try flush(&machine, at: .now(), onEvent, withSocket)
            while true {
                if driver.stop.isRequested { return .stopped }
                if machine.isFinished { return .finished }
                var now = MonotonicInstant.now()
                if let deadline, now >= deadline { return .deadlinePassed }
                if let due = machine.nextDeadline, now >= due {
                    machine.handleTimeout(at: now)
                    try flush(&machine, at: now, onEvent, withSocket)
                    continue
                }
                // The earlier of the machine's deadline and the run's, without an array per wake.
                var wake = deadline
                if let due = machine.nextDeadline { wake = min(wake ?? due, due) }
                guard try poll.wait(until: wake?.nanoseconds, stop: driver.stop) else { continue }
                for index in descriptors.indices {
                    let events = poll.readiness(at: index)
                    guard events != 0 else { continue }
                    if events & Int16(POLLERR) != 0 {
                        try readErrorQueue(index, &machine, onEvent, withSocket)
                    }
                    var read = 0
                    while read < driver.datagramsPerWake, !driver.stop.isRequested {
                        guard try receive(index, &machine, onEvent, withSocket) else { break }
                        read += 1
                        // A timer that fell due during a flood fires between datagrams, not after the batch.
                        now = .now()
                        if let due = machine.nextDeadline, now >= due {
                            machine.handleTimeout(at: now)
                            try flush(&machine, at: now, onEvent, withSocket)
                        }
                        if machine.isFinished { return .finished }
                    }
                }
            }
        }

        /// Reads one datagram from socket `index` if one is queued and hands it over; false when none was.
        private mutating func receive<Machine: DatagramMachine>(
            _ index: Int,
            _ machine: inout Machine,
            _ onEvent: (Machine.Event) -> Void,
            _ withSocket: WithSocket
        ) throws(UDPError) -> Bool {
            var received: ReceiveInfo?
            var failure: UDPError?
            try withSocket(index) { socket throws(UDPError) in
                do throws(UDPError) {
                    received = try socket.receiveIfQueued(into: &buffer)
                } catch {
                    failure = error
                }
            }
            let now = MonotonicInstant.now()
            if let failure {
                // An ICMP error the kernel failed the receive with: the machine judges it, the socket reads on.
                // Without the error queue on there is no event to judge, only the error: passed over.
                guard let event = failure.deliveryError else {
                    guard failure.isFromICMP else { throw failure }
                    return true
                }
                machine.handleDeliveryError(event, socket: index, at: now)
                try flush(&machine, at: now, onEvent, withSocket)
                return true
            }
            guard let info = received else { return false }
            let receivedAt = info.timestamp ?? .now()
            let datagram = InboundDatagram(
                payload: buffer[..<info.count],
                info: info,
                receivedAt: receivedAt,
                socket: index
            )
            machine.handleDatagram(datagram, at: now)
            try flush(&machine, at: now, onEvent, withSocket)
            return true
        }

        /// Hands socket `index`'s queued errors and send timestamps to the machine; the queue is bounded by the
        /// socket's receive buffer, and this read by a count all the same.
        private mutating func readErrorQueue<Machine: DatagramMachine>(
            _ index: Int,
            _ machine: inout Machine,
            _ onEvent: (Machine.Event) -> Void,
            _ withSocket: WithSocket
        ) throws(UDPError) {
            for _ in 0..<64 {
                var entry: ErrorQueueEvent?
                try withSocket(index) { socket throws(UDPError) in entry = try socket.receiveErrorQueue() }
                let now = MonotonicInstant.now()
                switch entry {
                case nil: return
                case .deliveryError(let error): machine.handleDeliveryError(error, socket: index, at: now)
                case .sendTimestamp(let stamp):
                    machine.handleSendReport(.kernelTimestamp(id: stamp.id, socket: index, time: stamp.time), at: now)
                }
                try flush(&machine, at: now, onEvent, withSocket)
            }
        }

        /// Sends every datagram the machine has for now, then hands on every event it has.
        mutating func flush<Machine: DatagramMachine>(
            _ machine: inout Machine,
            at now: MonotonicInstant,
            _ onEvent: (Machine.Event) -> Void,
            _ withSocket: WithSocket
        ) throws(UDPError) {
            while let datagram = machine.pollTransmit(at: now) {
                let index = datagram.socket
                precondition(descriptors.indices.contains(index), "no socket \(index) in this run")
                let sentAt = WallClockTime.now()
                do throws(UDPError) {
                    try send(datagram, index, withSocket)
                    let stampID = sendCounts[index]
                    sendCounts[index] &+= 1
                    machine.handleSendReport(.sent(datagram, socket: index, sentAt: sentAt, stampID: stampID), at: now)
                } catch {
                    guard reportsEverySendError || MachineDriver.isPassing(error) else { throw error }
                    machine.handleSendReport(.failed(datagram, socket: index, error: error), at: now)
                }
            }
            while let event = machine.pollEvent() { onEvent(event) }
        }

        private mutating func send(
            _ datagram: OutboundDatagram,
            _ index: Int,
            _ withSocket: WithSocket
        ) throws(UDPError) {
            var multicastInterface = multicastInterfaces[index]
            try withSocket(index) { socket throws(UDPError) in
                if datagram.destination.ip.isMulticast, let interface = datagram.interfaceIndex,
                    multicastInterface != interface
                {
                    try socket.setMulticastInterface(.index(interface))
                    multicastInterface = interface
                }
                if let source = datagram.source {
                    try socket.send(
                        datagram.payload,
                        to: datagram.destination,
                        from: source,
                        interfaceIndex: datagram.interfaceIndex
                    )
                } else {
                    try socket.send(datagram.payload, to: datagram.destination)
                }
            }
            multicastInterfaces[index] = multicastInterface
        }
    }
}
