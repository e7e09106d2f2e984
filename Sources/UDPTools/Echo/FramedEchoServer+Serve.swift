import UDP

extension FramedEchoServer {
    /// Serves on `socket` until `stop` is raised: prepares it (``prepare(_:)``), then runs this server on it with
    /// a ``MachineDriver`` that hands every send error to the server, which counts it and goes on: a peer gone
    /// is no reason to stop answering the others.
    ///
    /// - Parameters:
    ///   - socket: The bound socket to answer on.
    ///   - stop: Raised by SIGINT or SIGTERM, or by the caller.
    ///   - onEvent: Called with each event as it happens.
    public mutating func serve(
        on socket: borrowing UDPSocket,
        until stop: StopSignal,
        onEvent: (Event) -> Void
    ) throws(UDPError) {
        try Self.prepare(socket)
        var driver = MachineDriver(stop: stop)
        driver.reportsEverySendError = true
        try driver.run(&self, on: socket, onEvent: onEvent)
    }
}
