import Synchronization
import UDP
import UDPPatterns

/// A datagram from `sender`, arriving on `interface` with `hopLimit` on socket `socket`, sent to `group` (nil: not
/// known, as when the socket does not report it): what the announce and browse machines hear from the link.
func linkDatagram(
    _ bytes: [UInt8],
    from sender: SocketAddress,
    interface: UInt32? = 1,
    hopLimit: UInt8? = 255,
    to group: IPAddress? = nil,
    socket: Int = 0
) -> InboundDatagram {
    var datagram = InboundDatagram(bytes, from: sender, socket: socket)
    datagram.info.destination = group
    datagram.info.interfaceIndex = interface
    datagram.info.hopLimit = hopLimit
    return datagram
}

/// The announce machines on UDPPatterns' fake-clock `MachineHarness`: the clock moves only when a test says so.
enum AnnounceHarness {
    /// What the machine has to send and say now, taken as the driver takes it.
    static func drain<Machine: DatagramMachine>(
        _ machine: inout Machine,
        at now: MonotonicInstant
    ) -> (sent: [OutboundDatagram], events: [Machine.Event]) {
        let harness = MachineHarness(machine, at: now)
        machine = harness.machine
        return (harness.sent.map(\.datagram), harness.events)
    }

    /// Fires every deadline up to `end`, in order, collecting what goes out (with when) and what is said.
    static func advance<Machine: DatagramMachine>(
        _ machine: inout Machine,
        to end: MonotonicInstant
    ) -> (sent: [(at: MonotonicInstant, datagram: OutboundDatagram)], events: [Machine.Event]) {
        guard let first = machine.nextDeadline, first <= end else { return ([], []) }
        var harness = MachineHarness(machine, at: first)
        harness.advance(to: end)
        machine = harness.machine
        return (harness.sent.map { ($0.at, $0.datagram) }, harness.events)
    }
}

/// Addresses a test can change under a machine, as an interface's DHCP lease would.
final class FakeLinkAddresses: Sendable {
    private let value: Mutex<[UInt32: [InterfaceAddress]]?>

    init(_ value: [UInt32: [InterfaceAddress]]?) { self.value = Mutex(value) }

    /// What the next read returns.
    func set(_ new: [UInt32: [InterfaceAddress]]?) { value.withLock { $0 = new } }

    /// The reading the machine is given.
    var read: @Sendable () -> [UInt32: [InterfaceAddress]]? { { self.value.withLock { $0 } } }
}
