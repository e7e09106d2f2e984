import UDP
import UDPPatterns

/// A fake driver for the browse machines: datagrams at the instants a test gives, deadlines fired in order
/// between them, every datagram sent reported back as sent (or failed), as ``MachineDriver`` would.
enum BrowseHarness {
    /// What a run saw: the datagrams sent, with when, and the events, with when.
    struct Run<Event> {
        var sent: [(at: MonotonicInstant, datagram: OutboundDatagram)] = []
        var events: [(at: MonotonicInstant, event: Event)] = []
    }

    /// A datagram from `sender`, arriving on `interface` with `hopLimit`.
    static func datagram(
        _ bytes: [UInt8],
        from sender: SocketAddress,
        interface: UInt32? = 1,
        hopLimit: UInt8? = 255,
        socket: Int = 0
    ) -> InboundDatagram {
        let info = ReceiveInfo(
            count: bytes.count,
            length: bytes.count,
            sender: sender,
            isTruncated: false,
            interfaceIndex: interface,
            hopLimit: hopLimit
        )
        return InboundDatagram(
            payload: ArraySlice(bytes),
            info: info,
            receivedAt: WallClockTime(nanosecondsSince1970: 0),
            socket: socket
        )
    }

    /// Plays `inputs` (in time order) against `machine` from `start` to `end`, firing each deadline that falls
    /// on the way before the datagrams of the same instant. `failSends` reports every send as failed (the
    /// interface gone).
    static func play<Machine: DatagramMachine>(
        _ machine: inout Machine,
        from start: MonotonicInstant = .zero,
        to end: MonotonicInstant,
        inputs: [(at: MonotonicInstant, datagram: InboundDatagram)] = [],
        failSends: Bool = false
    ) -> Run<Machine.Event> {
        var run = Run<Machine.Event>()
        var now = start
        var next = 0
        drain(&machine, at: now, failSends, &run)
        while true {
            let input = next < inputs.count ? inputs[next].at : nil
            if let due = machine.nextDeadline, due <= end, input.map({ due <= $0 }) ?? true {
                now = max(now, due)
                machine.handleTimeout(at: now)
            } else if let input, input <= end {
                now = max(now, input)
                machine.handleDatagram(inputs[next].datagram, at: now)
                next += 1
            } else {
                break
            }
            drain(&machine, at: now, failSends, &run)
        }
        return run
    }

    private static func drain<Machine: DatagramMachine>(
        _ machine: inout Machine,
        at now: MonotonicInstant,
        _ failSends: Bool,
        _ run: inout Run<Machine.Event>
    ) {
        while let datagram = machine.pollTransmit(at: now) {
            run.sent.append((now, datagram))
            let report: SendReport =
                failSends
                ? .failed(datagram, socket: datagram.socket, error: UDPError(.send, errno: .noSuchDevice))
                : .sent(datagram, socket: datagram.socket, sentAt: WallClockTime(nanosecondsSince1970: 0), stampID: 0)
            machine.handleSendReport(report, at: now)
        }
        while let event = machine.pollEvent() { run.events.append((now, event)) }
    }
}
