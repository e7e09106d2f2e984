import UDP

extension PingSession {
    /// Sets `socket` (connected to the target) up for a session: ICMP errors queued, where the system has an
    /// error queue, so that each arrives as an ``Event/icmpError(_:)`` naming the router or host that sent it;
    /// and for `.kernel` round trips, the kernel's send and receive stamps on.
    ///
    /// - Returns: Nil when the socket gives what `timestamps` needs; else the error that kept the kernel's
    ///   stamps off, and the session measures by `.user`.
    @discardableResult
    public static func prepare(_ socket: borrowing UDPSocket, timestamps: Timestamps) -> UDPError? {
        // Without the queue (not Linux), refusals still come as the connected socket's plain errors.
        try? socket.setReceiveErrors(true)
        guard timestamps == .kernel else { return nil }
        do throws(UDPError) {
            try socket.setReceiveTimestamps(true)
            try socket.setSendTimestamps(true)
            return nil
        } catch {
            return error
        }
    }
}
