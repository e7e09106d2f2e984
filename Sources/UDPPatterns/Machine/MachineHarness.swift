import UDP

/// Drives any ``DatagramMachine`` on a fake clock, in the order `MachineDriver` drives one on sockets: a test
/// of a machine — this package's or your own — feeds it datagrams and errors at instants it picks, moves time on
/// (each deadline on the way fired at its instant), and reads what the machine sent and said.
///
/// After every input the harness takes what the machine has, as the driver does: each datagram it sends is kept
/// in ``sent`` and reported back as sent (or failed, with ``failingSends``), then each event is kept in
/// ``timedEvents``. The wall clock a report carries is ``wallClockAtZero`` plus the fake monotonic time, and
/// the reports are numbered for kernel stamps from 0, so a machine that matches its sends' stamps sees what a
/// socket with timestamps on would give it.
///
/// ```swift
/// var harness = MachineHarness(DatagramClient(destination: server, policy: policy))
/// harness.machine.send(Array("hi".utf8))
/// harness.drain()                                   // the first attempt goes out at 0
/// harness.advance(by: .seconds(1))                  // its wait runs out: the retry goes out at 1 s
/// harness.receive(Array("hello".utf8), from: server)
/// #expect(harness.sent.map(\.at) == [.zero, .zero + .seconds(1)])
/// ```
public struct MachineHarness<Machine: DatagramMachine> {
    /// The machine driven; a test may call its own methods (then ``drain()`` as the driver would).
    public var machine: Machine
    /// The fake monotonic time: where the last input or ``advance(to:)`` left it. A test may set it, to hand
    /// the machine an input late without firing the deadlines on the way.
    public var now: MonotonicInstant
    /// The wall clock at the fake monotonic clock's origin: each send report's `sentAt` is this plus ``now``.
    public var wallClockAtZero: WallClockTime
    /// Every datagram the machine sent so far (failed sends included), with the instant it went.
    public var sent: [(datagram: OutboundDatagram, at: MonotonicInstant)] = []
    /// The report each datagram in ``sent`` was given, in the same order: `.sent` with its stamp number, or
    /// `.failed`.
    public var reports: [SendReport] = []
    /// Called with each datagram as the machine sends it, before its report: a check a test makes of every send.
    public var checkSend: ((OutboundDatagram) -> Void)?
    /// Every event the machine gave so far, with the instant it was taken.
    public var timedEvents: [(event: Machine.Event, at: MonotonicInstant)] = []
    /// The stamp number the next send is reported with (`SendReport.sent`'s `stampID`), counting from 0.
    public var nextStampID: UInt32 = 0
    /// Errors the next sends are reported failed with, in order, instead of sent.
    public var failingSends: [UDPError] = []
    /// An error every send is reported failed with (an interface gone); nil reports sends as ``failingSends``
    /// says.
    public var failEverySend: UDPError?

    /// Starts driving `machine` at `start`, taking at once what it has to send and say.
    ///
    /// - Parameters:
    ///   - machine: The machine to drive.
    ///   - start: The fake monotonic time it starts at.
    ///   - wallClockAtZero: The wall clock at the monotonic origin (``wallClockAtZero``).
    ///   - failingSends: Errors the first sends fail with, in order (``failingSends``).
    ///   - failEverySend: An error every send fails with (``failEverySend``).
    public init(
        _ machine: Machine,
        at start: MonotonicInstant = .zero,
        wallClockAtZero: WallClockTime = WallClockTime(nanosecondsSince1970: 0),
        failingSends: [UDPError] = [],
        failEverySend: UDPError? = nil
    ) {
        self.machine = machine
        self.now = start
        self.wallClockAtZero = wallClockAtZero
        self.failingSends = failingSends
        self.failEverySend = failEverySend
        drain()
    }

    /// The events so far, without their instants.
    public var events: [Machine.Event] { timedEvents.map(\.event) }

    /// The wall-clock time at `instant` of the fake monotonic clock.
    public func wallClock(at instant: MonotonicInstant) -> WallClockTime {
        WallClockTime(nanosecondsSince1970: wallClockAtZero.nanosecondsSince1970 + instant.nanoseconds)
    }

    /// Sends what the machine has now, reporting each send back, then takes its events: what the driver does
    /// after every input.
    public mutating func drain() {
        while let datagram = machine.pollTransmit(at: now) {
            checkSend?(datagram)
            let report: SendReport
            if let failure = failEverySend ?? (failingSends.isEmpty ? nil : failingSends.removeFirst()) {
                report = .failed(datagram, socket: datagram.socket, error: failure)
            } else {
                report = .sent(datagram, socket: datagram.socket, sentAt: wallClock(at: now), stampID: nextStampID)
                nextStampID &+= 1
            }
            sent.append((datagram, now))
            reports.append(report)
            machine.handleSendReport(report, at: now)
        }
        while let event = machine.pollEvent() { timedEvents.append((event, now)) }
    }

    /// Moves the clock to `instant`, firing every deadline on the way at its own instant (and draining after
    /// each), until the machine finishes. The clock never goes back: an earlier `instant` leaves it where it is.
    public mutating func advance(to instant: MonotonicInstant) {
        while let due = machine.nextDeadline, due <= instant, !machine.isFinished {
            now = max(now, due)
            machine.handleTimeout(at: now)
            drain()
        }
        now = max(now, instant)
    }

    /// Moves the clock on by `duration` (``advance(to:)``).
    public mutating func advance(by duration: Duration) { advance(to: now + duration) }

    /// Fires deadlines until the machine finishes or has none left: a run that nothing answers.
    public mutating func runUntilFinished() {
        while !machine.isFinished, let due = machine.nextDeadline { advance(to: due) }
    }

    /// Hands the machine `datagram` now, then drains.
    public mutating func receive(_ datagram: InboundDatagram) {
        machine.handleDatagram(datagram, at: now)
        drain()
    }

    /// Hands the machine `payload` from `sender` on socket `socket` now, then drains.
    public mutating func receive(_ payload: some Collection<UInt8>, from sender: SocketAddress, socket: Int = 0) {
        receive(InboundDatagram(payload, from: sender, socket: socket))
    }

    /// Hands the machine an ICMP error (or the stack's own) on socket `socket` now, then drains.
    public mutating func deliver(_ error: DeliveryError, socket: Int = 0) {
        machine.handleDeliveryError(error, socket: socket, at: now)
        drain()
    }

    /// Plays `inputs` (in time order) up to `end`: each deadline that falls on the way fires before the
    /// datagrams of the same instant, as the driver, waking for a deadline, handles it before it reads.
    public mutating func play(
        _ inputs: [(at: MonotonicInstant, datagram: InboundDatagram)],
        until end: MonotonicInstant
    ) {
        var next = 0
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
            drain()
        }
    }

    /// Takes the events given since the last call (or the start), and forgets them.
    public mutating func takeEvents() -> [Machine.Event] {
        defer { timedEvents = [] }
        return events
    }
}
