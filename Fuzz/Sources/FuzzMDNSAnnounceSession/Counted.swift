import UDP
import UDPPatterns

/// A machine that counts the datagrams it was handed, so that the target can check that its counters add up.
struct Counted<Machine: DatagramMachine>: DatagramMachine {
    var machine: Machine
    /// Datagrams handed to the machine.
    var datagrams = 0

    init(_ machine: Machine) { self.machine = machine }

    mutating func handleDatagram(_ datagram: InboundDatagram, at now: MonotonicInstant) {
        datagrams += 1
        machine.handleDatagram(datagram, at: now)
    }

    mutating func handleDeliveryError(_ error: DeliveryError, socket: Int, at now: MonotonicInstant) {
        machine.handleDeliveryError(error, socket: socket, at: now)
    }

    mutating func handleSendReport(_ report: SendReport, at now: MonotonicInstant) {
        machine.handleSendReport(report, at: now)
    }

    mutating func handleTimeout(at now: MonotonicInstant) { machine.handleTimeout(at: now) }
    mutating func pollTransmit(at now: MonotonicInstant) -> OutboundDatagram? { machine.pollTransmit(at: now) }
    mutating func pollEvent() -> Machine.Event? { machine.pollEvent() }
    var nextDeadline: MonotonicInstant? { machine.nextDeadline }
    var isFinished: Bool { machine.isFinished }
}
