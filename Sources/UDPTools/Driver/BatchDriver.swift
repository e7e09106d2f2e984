import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a ``BatchMachine`` on sockets at the kernel's rate: `recvmmsg(2)` into the machine's batch, GRO
/// trains whole, `sendmmsg(2)` and GSO for what it sends, the error queue, timers, and the stop signal. The
/// engines of `udp echo` (``Reflector``), `udp bench` (``BenchWorker``) and `udp relay` (``RelayEngine``) are
/// configurations of it.
///
/// While datagrams keep coming it only receives and hands over, one clock read a batch, up to four batches
/// from a socket before the next socket's turn; every 16 turns it looks at the other sockets without waiting.
/// Once every socket's queue is empty it sleeps in `poll(2)` on them and the stop signal until a datagram, an
/// error, the machine's deadline, or a stop. A machine with no deadline on a blocking socket needs no `poll(2)` at all:
/// the driver blocks in `recvmmsg(2)` itself, and a stop shuts the socket for reading to end the wait
/// (``StopSignal/watching(_:_:)``; measured: a `poll(2)` per batch is 13 % of the CPU per reply with
/// 1200-byte trains).
///
/// ```swift
/// var reflector = Reflector()
/// try BatchDriver(stop: stop).run(&reflector, on: socket) { event in print(event) }
/// ```
///
/// An ICMP error that fails a receive goes to the machine (``BatchMachine/handleDeliveryError(_:socket:at:)``),
/// and so does each error queued when the socket keeps its error queue; any other error of a receive ends the
/// run, thrown. Errors of a send are the machine's: it sent.
public struct BatchDriver {
    /// The signal that ends a run; nil when only the machine ends it (``BatchMachine/isFinished``).
    public let stop: StopSignal?

    /// A driver stopped by `stop`, or only by its machine when nil.
    public init(stop: StopSignal?) {
        self.stop = stop
    }

    /// Runs `machine` on `socket` (socket 0) until it finishes or `stop` is raised.
    ///
    /// - Parameters:
    ///   - machine: The machine to run.
    ///   - socket: Its socket.
    ///   - observe: Called with the receive batch and its slot count before the machine takes it (for logging
    ///     what arrived).
    ///   - onEvent: Called with each event the machine gives.
    /// - Returns: Why the run ended.
    @discardableResult
    public func run<Machine: BatchMachine & ~Copyable>(
        _ machine: inout Machine,
        on socket: borrowing UDPSocket,
        observe: ((borrowing DatagramBatch, Int) -> Void)? = nil,
        onEvent: (Machine.Event) -> Void
    ) throws(UDPError) -> MachineDriver.Ending {
        var loop = Loop(stop: stop, observe: observe)
        loop.watch([(0, socket.descriptor)])
        if machine.nextDeadline == nil, !socket.isNonBlocking, let stop {
            let blocked = try stop.watching(socket) { (watched) throws(UDPError) -> Bool in
                guard watched else { return false }
                while !stop.isRequested && !machine.isFinished {
                    _ = try loop.receive(&machine, from: 0, waiting: true, onEvent) { _, body throws(UDPError) in
                        try body(socket)
                    }
                }
                return true
            }
            if blocked { return stop.isRequested ? .stopped : .finished }
        }
        return try loop.run(&machine, onEvent, table: nil) { _, body throws(UDPError) in try body(socket) }
    }

    /// Runs `machine` on the sockets of `table`, whichever it holds at each wait, until the machine finishes
    /// or `stop` is raised. A send on a socket no longer in the table fails with `EBADF`.
    ///
    /// - Parameters:
    ///   - machine: The machine to run.
    ///   - table: Its sockets, by number.
    ///   - observe: Called with the receive batch and its slot count before the machine takes it.
    ///   - onEvent: Called with each event the machine gives.
    /// - Returns: Why the run ended.
    @discardableResult
    public func run<Machine: BatchMachine & ~Copyable>(
        _ machine: inout Machine,
        on table: SocketTable,
        observe: ((borrowing DatagramBatch, Int) -> Void)? = nil,
        onEvent: (Machine.Event) -> Void
    ) throws(UDPError) -> MachineDriver.Ending {
        var loop = Loop(stop: stop, observe: observe)
        return try loop.run(&machine, onEvent, table: table) { number, body throws(UDPError) in
            guard let shared = table[number] else { throw UDPError(.send, errno: Errno(rawValue: EBADF)) }
            try body(shared.socket)
        }
    }

    /// Receives one batch from `socket` — waiting for it as long as the socket's receive timeout lets it — and
    /// hands it to `machine`: a step at a time, for a caller with a loop of its own.
    ///
    /// - Parameters:
    ///   - machine: The machine to hand the batch to.
    ///   - socket: The socket to receive from.
    ///   - observe: Called with the receive batch and its slot count before the machine takes it.
    ///   - onEvent: Called with each event the machine gives.
    /// - Returns: The slots received, or nil when the receive only timed out or reported an ICMP error (which
    ///   went to the machine).
    public func receiveNextBatch<Machine: BatchMachine & ~Copyable>(
        _ machine: inout Machine,
        on socket: borrowing UDPSocket,
        observe: ((borrowing DatagramBatch, Int) -> Void)? = nil,
        onEvent: (Machine.Event) -> Void
    ) throws(UDPError) -> Int? {
        var loop = Loop(stop: stop, observe: observe)
        let slots = try loop.receive(&machine, from: 0, waiting: true, onEvent) { _, body throws(UDPError) in
            try body(socket)
        }
        return slots > 0 ? slots : nil
    }

    /// One run's state: the poll set, the sockets with more to read, and the hooks.
    private struct Loop {
        typealias WithSocket = (Int, (borrowing UDPSocket) throws(UDPError) -> Void) throws(UDPError) -> Void

        /// Batches read from one socket before the next socket's turn: one busy peer cannot starve the rest.
        static let batchesPerTurn = 4
        /// Turns over the busy sockets before a look at the others that does not wait.
        static let turnsPerLook = 16

        let stop: StopSignal?
        let observe: ((borrowing DatagramBatch, Int) -> Void)?
        var poll = PollSet()
        /// The socket number of each poll set entry, in the order they were added.
        var numbers: [Int] = []
        /// The table's generation the poll set was built from.
        var generation = -1
        /// Sockets whose last batch was full: more is queued, and reading it costs less than a `poll(2)` that
        /// says so. Kept between turns, allocated once.
        var busy: [Int] = []
        /// Whether the last receive filled the batch: more is queued.
        var lastWasFull = false

        init(stop: StopSignal?, observe: ((borrowing DatagramBatch, Int) -> Void)?) {
            self.stop = stop
            self.observe = observe
        }

        mutating func watch(_ sockets: [(number: Int, descriptor: CInt)]) {
            poll = PollSet()
            numbers.removeAll(keepingCapacity: true)
            for (number, descriptor) in sockets {
                poll.add(descriptor)
                numbers.append(number)
            }
            busy.removeAll { !numbers.contains($0) }
        }

        mutating func run<Machine: BatchMachine & ~Copyable>(
            _ machine: inout Machine,
            _ onEvent: (Machine.Event) -> Void,
            table: SocketTable?,
            _ withSocket: WithSocket
        ) throws(UDPError) -> MachineDriver.Ending {
            var turns = 0
            while true {
                if stop?.isRequested == true { return .stopped }
                if machine.isFinished { return .finished }
                if let due = machine.nextDeadline {
                    let now = MonotonicInstant.now()
                    if now >= due {
                        machine.handleTimeout(at: now) { batch, start, number throws(UDPError) in
                            try Self.send(&batch, start, number, withSocket)
                        }
                        while let event = machine.pollEvent() { onEvent(event) }
                        if machine.isFinished { return .finished }
                    }
                }
                if let table, table.generation != generation {
                    generation = table.generation
                    watch(table.descriptors)
                }
                if busy.isEmpty || turns >= Self.turnsPerLook {
                    // Sleep while nothing is queued (a deadline already passed makes it a look that does not
                    // wait); with sockets still busy, only look.
                    let wake = busy.isEmpty ? machine.nextDeadline?.nanoseconds : 0
                    turns = 0
                    if try poll.wait(until: wake, stop: stop) {
                        try takeReadiness(&machine, onEvent, withSocket)
                    }
                }
                try takeTurn(&machine, onEvent, withSocket)
                turns += 1
            }
        }

        /// Reads the error queue of each socket the last wait found with one, and marks each readable one busy.
        private mutating func takeReadiness<Machine: BatchMachine & ~Copyable>(
            _ machine: inout Machine,
            _ onEvent: (Machine.Event) -> Void,
            _ withSocket: WithSocket
        ) throws(UDPError) {
            for position in numbers.indices {
                let events = poll.readiness(at: position)
                guard events != 0 else { continue }
                let number = numbers[position]
                if events & Int16(POLLERR) != 0 { try readErrorQueue(&machine, number, onEvent, withSocket) }
                if !busy.contains(number) { busy.append(number) }
            }
        }

        /// Reads up to ``batchesPerTurn`` batches from each busy socket; those whose queue ran dry are busy no
        /// more.
        private mutating func takeTurn<Machine: BatchMachine & ~Copyable>(
            _ machine: inout Machine,
            _ onEvent: (Machine.Event) -> Void,
            _ withSocket: WithSocket
        ) throws(UDPError) {
            var kept = 0
            for index in busy.indices {
                let number = busy[index]
                for _ in 0..<Self.batchesPerTurn {
                    if stop?.isRequested == true || machine.isFinished { break }
                    _ = try receive(&machine, from: number, waiting: false, onEvent, withSocket)
                    if !lastWasFull { break }
                }
                if lastWasFull {
                    busy[kept] = number
                    kept += 1
                }
            }
            busy.removeLast(busy.count - kept)
        }

        /// Receives a batch from socket `number` — waiting for its first datagram, or only taking what is
        /// queued — and hands it over.
        ///
        /// - Returns: The slots received; 0 when none were, or a stop came with them (a stop that shut the
        ///   socket for reading fills it with empty datagrams from nowhere, which nobody may answer).
        mutating func receive<Machine: BatchMachine & ~Copyable>(
            _ machine: inout Machine,
            from number: Int,
            waiting: Bool,
            _ onEvent: (Machine.Event) -> Void,
            _ withSocket: WithSocket
        ) throws(UDPError) -> Int {
            var capacity = 0
            var stopped = false
            let slots: Int
            do throws(UDPError) {
                slots = try machine.withReceiveBatch { (batch) throws(UDPError) -> Int in
                    capacity = batch.capacity
                    var slots = 0
                    try withSocket(number) { socket throws(UDPError) in
                        slots = waiting ? try socket.receive(into: &batch) : try socket.receiveIfQueued(into: &batch)
                    }
                    stopped = slots > 0 && stop?.isRequested == true
                    if slots > 0, !stopped { observe?(batch, slots) }
                    return slots
                }
            } catch {
                // An error is not a datagram: the queue may still hold some, and the next turn reads them.
                lastWasFull = true
                try take(error, from: number, &machine, onEvent, withSocket)
                return 0
            }
            // Fewer than the batch holds: the queue ran dry (recvmmsg stops early only then).
            lastWasFull = slots == capacity
            guard slots > 0, !stopped else { return 0 }
            let now = MonotonicInstant.now()
            machine.handleReceived(slots, socket: number, at: now) { batch, start, number throws(UDPError) in
                try Self.send(&batch, start, number, withSocket)
            }
            while let event = machine.pollEvent() { onEvent(event) }
            return slots
        }

        /// Hands a receive's ICMP error to the machine; a timeout or an empty queue is nothing, and any other
        /// error ends the run.
        private mutating func take<Machine: BatchMachine & ~Copyable>(
            _ failure: UDPError,
            from number: Int,
            _ machine: inout Machine,
            _ onEvent: (Machine.Event) -> Void,
            _ withSocket: WithSocket
        ) throws(UDPError) {
            if let event = failure.deliveryError {
                // The error queue is on and a datagram sent earlier drew an ICMP error: it, and all queued
                // behind it.
                machine.handleDeliveryError(event, socket: number, at: .now())
                try readErrorQueue(&machine, number, onEvent, withSocket)
            } else if failure.isFromICMP {
                machine.handleDeliveryError(nil, socket: number, at: .now())
            } else if failure.code == .timedOut || failure.code == .wouldBlock {
                lastWasFull = false
            } else {
                throw failure
            }
            while let event = machine.pollEvent() { onEvent(event) }
        }

        /// Hands socket `number`'s queued ICMP errors to the machine: bounded by the socket's receive buffer,
        /// and read by a count all the same. Send timestamps, which no batch engine asks for, are passed over.
        private func readErrorQueue<Machine: BatchMachine & ~Copyable>(
            _ machine: inout Machine,
            _ number: Int,
            _ onEvent: (Machine.Event) -> Void,
            _ withSocket: WithSocket
        ) throws(UDPError) {
            for _ in 0..<64 {
                var entry: ErrorQueueEvent?
                try withSocket(number) { socket throws(UDPError) in entry = try? socket.receiveErrorQueue() }
                guard let entry else { break }
                if case .deliveryError(let error) = entry {
                    machine.handleDeliveryError(error, socket: number, at: .now())
                }
            }
            while let event = machine.pollEvent() { onEvent(event) }
        }

        private static func send(
            _ batch: inout DatagramBatch,
            _ start: Int,
            _ number: Int,
            _ withSocket: WithSocket
        ) throws(UDPError) -> Int {
            var sent = 0
            try withSocket(number) { socket throws(UDPError) in sent = try socket.send(&batch, startingAt: start) }
            return sent
        }
    }
}
