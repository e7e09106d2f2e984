import UDP

/// A protocol's rules as a state machine that holds no socket and reads no clock (sans-I/O), in the one shape
/// every protocol of this package has, after quinn-proto's `Connection`: it takes datagrams, delivery errors,
/// send reports and timeouts, each at an instant it is told; it gives datagrams to send, events, and the instant
/// it next needs to be woken.
///
/// A driver runs it on sockets (`MachineDriver`, in UDPTools); a test runs it with a fake clock and scripted
/// datagrams, and sees everything the protocol would do on the wire:
///
/// ```swift
/// var machine = SomeMachine(...)
/// var now = MonotonicInstant.zero
/// while !machine.isFinished {
///     while let datagram = machine.pollTransmit(at: now) { sent.append(datagram) }
///     while let event = machine.pollEvent() { events.append(event) }
///     guard let deadline = machine.nextDeadline else { break }
///     now = deadline                       // nothing arrived before it
///     machine.handleTimeout(at: now)
/// }
/// ```
///
/// The driver's order, which a machine may rely on: after each input (a datagram, a delivery error, a send
/// report, a timeout), it sends every datagram ``pollTransmit(at:)`` gives and hands on every event
/// ``pollEvent()`` gives, then reads ``isFinished`` and ``nextDeadline``. It calls ``handleTimeout(at:)`` once
/// the deadline has passed (never early; possibly late, under load); `now` never goes back.
///
/// A machine bounds what a peer can make it hold (queues, tables, events not yet polled) and counts what it
/// dropped, by a typed reason.
public protocol DatagramMachine {
    /// What the machine reports to its user: a reply, a peer found, a failure.
    associatedtype Event

    /// Takes a datagram that arrived on one of the driver's sockets.
    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant)

    /// Takes an ICMP error (or a local one) that a datagram from socket `socket` drew, read from its error queue
    /// or from a send or receive the kernel failed with it. Anyone can forge one: check it against what was sent
    /// (`DeliveryError` quotes the original's destination). The default ignores it.
    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant)

    /// Takes what became of a datagram ``pollTransmit(at:)`` gave: sent (with the wall-clock time just before,
    /// and the kernel's number for its send timestamp), failed, or the kernel's send timestamp. The default
    /// ignores it.
    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant)

    /// Takes the passing of ``nextDeadline``.
    mutating func handleTimeout(at now: MonotonicInstant)

    /// The next datagram to send, or nil when there is none now.
    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram?

    /// The next event, or nil when there is none now.
    mutating func pollEvent() -> Event?

    /// When the machine next needs ``handleTimeout(at:)``; nil when only a datagram can move it on.
    var nextDeadline: MonotonicInstant? { get }

    /// True once the machine has nothing more to do (every request answered or given up): its driver returns.
    var isFinished: Bool { get }
}

extension DatagramMachine {
    /// Ignores the error: a protocol that learns nothing from ICMP.
    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {}

    /// Ignores the report: a protocol that needs no send times.
    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {}

    /// False: a machine that runs until it is stopped (a responder, a browser).
    public var isFinished: Bool { false }
}
