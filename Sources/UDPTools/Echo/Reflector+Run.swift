import UDP

extension Reflector {
    /// Answers datagrams on `socket` until `stop` is requested.
    ///
    /// Its receives never wait (`MSG_DONTWAIT`), whatever the socket's mode. While datagrams keep coming the
    /// loop only receives and sends; once a receive empties the queue it sleeps in `poll(2)` on the socket and
    /// the stop signal, so an idle server makes no system calls and wakes for nothing but a datagram, a stop,
    /// or its next report.
    ///
    /// - Parameters:
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
        var nextReport = reportInterval.map { MonotonicClock.now() + $0 }
        while !stop.isRequested {
            if let due = nextReport, let reportInterval, MonotonicClock.now() >= due {
                report(counters)
                nextReport = due + reportInterval
            }
            // After a batch that emptied the queue, sleep until the next datagram instead of asking for it
            // (measured: a look before the poll costs more under a flood than it saves in ping-pong).
            if queueDrained {
                guard try stop.wait(forReadable: socket.descriptor, until: nextReport) else { continue }
            }
            _ = try reflect(socket, waiting: false, observe: observe, sendFailed: sendFailed)
        }
    }
}
