import UDP
import UDPPatterns

/// A machine of several sockets behind a script's one: the driver's side of the sockets, as a target models it.
/// Each datagram and delivery error of the script goes to the socket the target's routing picks (the latest
/// request's, a late reply's older one), and each datagram the machine sends is shown to `watchSend` first, for a
/// check that needs its instant (the spacing of requests).
public struct RoutedMachine<Machine: DatagramMachine>: DatagramMachine {
    /// The machine driven.
    public var machine: Machine
    private let datagramSocket: (Machine, InboundDatagram) -> Int
    private let errorSocket: (Machine) -> Int
    private let watchSend: (Machine, MonotonicInstant) -> Void

    /// Routes the script's datagrams by `datagramSocket` and its errors by `errorSocket`; `watchSend` sees the
    /// machine as each datagram leaves, with the instant.
    public init(
        _ machine: Machine,
        datagramSocket: @escaping (Machine, InboundDatagram) -> Int,
        errorSocket: @escaping (Machine) -> Int,
        watchSend: @escaping (Machine, MonotonicInstant) -> Void = { _, _ in }
    ) {
        self.machine = machine
        self.datagramSocket = datagramSocket
        self.errorSocket = errorSocket
        self.watchSend = watchSend
    }

    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        var routed = datagram
        routed.socket = datagramSocket(machine, datagram)
        machine.handleDatagram(routed, at: now)
    }

    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        machine.handleDeliveryError(error, socket: errorSocket(machine), at: now)
    }

    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        machine.handleSendReport(report, at: now)
    }

    public mutating func handleTimeout(at now: MonotonicInstant) { machine.handleTimeout(at: now) }

    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? {
        guard let datagram = machine.pollTransmit(at: now) else { return nil }
        watchSend(machine, now)
        return datagram
    }

    public mutating func pollEvent() -> Machine.Event? { machine.pollEvent() }
    public var nextDeadline: MonotonicInstant? { machine.nextDeadline }
    public var isFinished: Bool { machine.isFinished }
}
