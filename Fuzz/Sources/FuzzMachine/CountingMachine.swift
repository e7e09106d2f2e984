import UDP
import UDPPatterns

/// A machine that counts the datagrams it was handed and the sends reported, so that a target can check that
/// its machine's counters add up to them.
public struct CountingMachine<Machine: DatagramMachine>: DatagramMachine {
    public var machine: Machine
    /// Datagrams handed to the machine.
    public var datagrams = 0
    /// Their lengths on the wire, summed.
    public var bytes = 0
    /// Sends reported to the machine as done.
    public var sent = 0

    /// Counts what reaches `machine`.
    public init(_ machine: Machine) { self.machine = machine }

    public mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        datagrams += 1
        bytes += datagram.info.length
        machine.handleDatagram(datagram, at: now)
    }

    public mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        machine.handleDeliveryError(error, socket: socket, at: now)
    }

    public mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        if case .sent = report { sent += 1 }
        machine.handleSendReport(report, at: now)
    }

    public mutating func handleTimeout(at now: MonotonicInstant) { machine.handleTimeout(at: now) }
    public mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? { machine.pollTransmit(at: now) }
    public mutating func pollEvent() -> Machine.Event? { machine.pollEvent() }
    public var nextDeadline: MonotonicInstant? { machine.nextDeadline }
    public var isFinished: Bool { machine.isFinished }
}
