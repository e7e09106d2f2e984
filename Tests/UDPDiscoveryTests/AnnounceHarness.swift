import Synchronization
import UDP
import UDPPatterns

/// A fake driver for the announce machines: the clock moves only when a test says so.
enum AnnounceHarness {
    /// A datagram from `sender`, arriving on `interface` with `hopLimit`, sent to a group unless `multicast` is
    /// false.
    static func datagram(
        _ bytes: [UInt8],
        from sender: SocketAddress,
        interface: UInt32 = 1,
        hopLimit: UInt8 = 255,
        to group: IPAddress? = nil
    ) -> InboundDatagram {
        let info = ReceiveInfo(
            count: bytes.count,
            length: bytes.count,
            sender: sender,
            isTruncated: false,
            destination: group,
            interfaceIndex: interface,
            hopLimit: hopLimit
        )
        return InboundDatagram(
            payload: ArraySlice(bytes),
            info: info,
            receivedAt: WallClockTime(nanosecondsSince1970: 0)
        )
    }

    /// What the machine has to send and say now, taken as the driver takes it.
    static func drain<Machine: DatagramMachine>(
        _ machine: inout Machine,
        at now: MonotonicInstant
    ) -> (sent: [OutboundDatagram], events: [Machine.Event]) {
        var sent: [OutboundDatagram] = []
        var events: [Machine.Event] = []
        while let datagram = machine.pollTransmit(at: now) { sent.append(datagram) }
        while let event = machine.pollEvent() { events.append(event) }
        return (sent, events)
    }

    /// Fires every deadline up to `end`, in order, collecting what goes out (with when) and what is said.
    static func advance<Machine: DatagramMachine>(
        _ machine: inout Machine,
        to end: MonotonicInstant
    ) -> (sent: [(at: MonotonicInstant, datagram: OutboundDatagram)], events: [Machine.Event]) {
        var sent: [(at: MonotonicInstant, datagram: OutboundDatagram)] = []
        var events: [Machine.Event] = []
        while let due = machine.nextDeadline, due <= end {
            machine.handleTimeout(at: due)
            let (datagrams, said) = drain(&machine, at: due)
            sent += datagrams.map { (due, $0) }
            events += said
        }
        return (sent, events)
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
