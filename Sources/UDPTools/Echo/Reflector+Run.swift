import UDP

extension Reflector {
    /// Answers datagrams on `socket` until `stop` is requested, each from the address it was sent to (see
    /// ``answerFromTheAddressAsked(on:)``, which this calls first).
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
    ///   - reportInterval: How often, in nanoseconds, `report` gets the counters; nil never.
    ///   - report: Called with the running counters about every `reportInterval` (for `--stats`).
    ///   - observe: Called with each received batch and its slot count before the replies go out.
    ///   - sendFailed: Called for each datagram that could not be answered, with the reason.
    public mutating func run(
        _ socket: borrowing UDPSocket,
        until stop: StopSignal,
        reportInterval: UInt64? = nil,
        report: (Counters) -> Void = { _ in },
        observe: ((borrowing DatagramBatch, Int) -> Void)? = nil,
        sendFailed: ((UDPError) -> Void)? = nil
    ) throws(UDPError) {
        try Self.answerFromTheAddressAsked(on: socket)
        // With nothing to report on a timer, a blocking socket waits in its receive, which the stop ends by
        // shutting the socket for reading: no poll(2) per batch (measured: 13 % of the CPU per reply with
        // 1200-byte trains). Otherwise, and for a non-blocking socket, the loop sleeps in poll(2).
        if reportInterval == nil && !socket.isNonBlocking {
            let blocked = try stop.watching(socket) { (watched) throws(UDPError) -> Bool in
                guard watched else { return false }
                while !stop.isRequested {
                    _ = try reflect(socket, waiting: true, stop: stop, observe: observe, sendFailed: sendFailed)
                }
                return true
            }
            if blocked { return }
        }
        var reports = ReportClock(interval: reportInterval)
        while !stop.isRequested {
            if reports.isDue() { report(counters) }
            // After a batch that emptied the queue, sleep until the next datagram instead of asking for it
            // (measured: a look before the poll costs more under a flood than it saves in ping-pong).
            if queueDrained {
                guard try stop.wait(forReadable: socket.descriptor, until: reports.deadline) else { continue }
            }
            _ = try reflect(socket, waiting: false, observe: observe, sendFailed: sendFailed)
        }
    }
}
