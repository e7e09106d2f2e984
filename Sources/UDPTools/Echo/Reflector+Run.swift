import UDP

extension Reflector {
    /// Answers datagrams on `socket` until `stop` is requested, each from the address it was sent to (see
    /// ``answerFromTheAddressAsked(on:)``, which this calls first): the reflector on a ``BatchDriver``.
    ///
    /// An idle server makes no system calls and wakes for nothing but a datagram, a stop, or its next report.
    /// On a blocking socket with no `reportInterval`, it blocks in `recvmmsg` and the stop shuts the socket for
    /// reading to end the wait (see ``StopSignal/watching(_:_:)``: the socket reads nothing more afterwards).
    /// Otherwise its receives never wait (`MSG_DONTWAIT`): while datagrams keep coming it only receives and
    /// sends, and once a receive empties the queue it sleeps in `poll(2)` on the socket and the stop signal.
    ///
    /// - Parameters:
    ///   - socket: The server's socket.
    ///   - stop: Ends the run when requested.
    ///   - reportInterval: How often `report` gets the counters; nil never.
    ///   - report: Called with the running counters about every `reportInterval` (for `--stats`).
    ///   - observe: Called with each received batch and its slot count before the replies go out.
    ///   - sendFailed: Called for each datagram that could not be answered, with the reason.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        reportInterval: Duration? = nil,
        report: (Counters) -> Void = { _ in },
        observe: ((borrowing DatagramBatch, Int) -> Void)? = nil,
        sendFailed: ((UDPError) -> Void)? = nil
    ) throws(UDPError) {
        try Self.answerFromTheAddressAsked(on: socket)
        self.report(every: reportInterval, from: .now())
        try BatchDriver(stop: stop).run(&self, on: socket, observe: observe) { event in
            switch event {
            case .report(let counters): report(counters)
            case .sendFailed(let error): sendFailed?(error)
            }
        }
    }
}
