import UDP

/// Sends slots `startingAt...` of a batch on socket `socket` (its place in the run), as many as the kernel
/// takes in one `sendmmsg(2)`, and returns how many it took; throws the error of the first it refused. What a
/// ``BatchMachine`` is given to send with: the ``BatchDriver`` sends on its sockets, a test records.
public typealias BatchSend = (_ batch: inout DatagramBatch, _ startingAt: Int, _ socket: Int) throws(UDPError) -> Int

/// A machine that takes datagrams a received batch at a time and sends a batch at a time: the shape of
/// `DatagramMachine` (UDPPatterns) for the engines that run at the kernel's rate (echo, bench), where a
/// datagram at a time would cost a system call each and a copy.
///
/// Its vocabulary is the same — received datagrams, delivery errors and timeouts at an instant in; datagrams,
/// events and a next deadline out — with two differences, both for speed. The machine owns the batch it is
/// received into (``withReceiveBatch(_:)``: its sizes fit its protocol, and nothing is allocated per batch),
/// so that an echo can answer a batch in place: a received slot still holds its sender. And it sends as it
/// handles, through the ``BatchSend`` it is given, so that a train goes back as one GSO send and a failed
/// send is counted where it happens. It holds no socket and reads no clock.
public protocol BatchMachine: ~Copyable {
    /// What the machine tells its owner (a report of its counters, a datagram it could not answer).
    associatedtype Event

    /// Calls `body` with the batch that the next datagrams are to be received into.
    mutating func withReceiveBatch<Result: ~Copyable, Failure: Error>(
        _ body: (inout DatagramBatch) throws(Failure) -> Result
    ) throws(Failure) -> Result

    /// Takes slots `0..<count` of the receive batch, received on socket `socket` at `now`, and sends what it
    /// answers through `send`.
    mutating func handleReceived(_ count: Int, socket: Int, at now: MonotonicInstant, send: BatchSend)

    /// Takes an ICMP error that the kernel reported for a datagram sent earlier on socket `socket`: the
    /// error queue's detail, or nil when the socket does not keep the queue and the kernel could only fail a
    /// call with it (`ECONNREFUSED` and its kin).
    mutating func handleDeliveryError(_ error: DeliveryError?, socket: Int, at now: MonotonicInstant)

    /// Takes the passing of ``nextDeadline``, and sends what falls due through `send`.
    mutating func handleTimeout(at now: MonotonicInstant, send: BatchSend)

    /// When the machine next needs ``handleTimeout(at:send:)``; nil while only a datagram can move it. A
    /// deadline already passed asks for the timeout again after a look at the sockets that does not wait: a
    /// sender with room in its window says so.
    var nextDeadline: MonotonicInstant? { get }

    /// Whether the machine is done: the driver stops running it.
    var isFinished: Bool { get }

    /// The next event, or nil when there is none; the driver asks after every batch and every timeout.
    mutating func pollEvent() -> Event?
}

extension BatchMachine where Self: ~Copyable {
    /// By default, delivery errors are not this machine's concern.
    public mutating func handleDeliveryError(_ error: DeliveryError?, socket: Int, at now: MonotonicInstant) {}

    /// By default, there is no timer.
    public mutating func handleTimeout(at now: MonotonicInstant, send: BatchSend) {}

    /// By default, no deadline.
    public var nextDeadline: MonotonicInstant? { nil }

    /// By default, a machine runs until it is stopped.
    public var isFinished: Bool { false }
}
