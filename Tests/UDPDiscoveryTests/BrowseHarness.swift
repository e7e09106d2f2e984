import UDP
import UDPPatterns

/// The browse machines on UDPPatterns' fake-clock `MachineHarness`: datagrams at the instants a test gives,
/// deadlines fired in order between them, every datagram sent reported back as sent (or failed), as
/// `MachineDriver` would.
enum BrowseHarness {
    /// What a run saw: the datagrams sent, with when, and the events, with when.
    struct Run<Event> {
        var sent: [(at: MonotonicInstant, datagram: OutboundDatagram)] = []
        var events: [(at: MonotonicInstant, event: Event)] = []
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
        let failure = failSends ? UDPError(.send, errno: .noSuchDevice) : nil
        var harness = MachineHarness(machine, at: start, failEverySend: failure)
        harness.play(inputs, until: end)
        machine = harness.machine
        return Run(
            sent: harness.sent.map { ($0.at, $0.datagram) },
            events: harness.timedEvents.map { ($0.at, $0.event) }
        )
    }
}
