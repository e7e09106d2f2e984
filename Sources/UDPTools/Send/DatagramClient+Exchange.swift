import UDP
import UDPPatterns

extension DatagramClient {
    /// Sends `payload` on `socket` and runs the client on `driver` until its reply (or every reply, for a
    /// group or broadcast), resending as the policy says.
    ///
    /// - Parameters:
    ///   - payload: The request.
    ///   - socket: The socket to send it on (connected for a unicast destination).
    ///   - driver: Runs the client; its stop signal ends the wait at once.
    ///   - expectReply: False sends once and returns at once.
    ///   - onEvent: Called with each send, reply and ignored datagram, in order.
    /// - Returns: False when nothing answered (after a ``Event/noReply(total:attempts:)`` event).
    /// - Throws: `UDPError`: the destination refused (ICMP port unreachable: the error carries it, as a
    ///   blocking receive's would), or the socket failed (``ExchangeFailure/udpError``).
    public mutating func exchange(
        _ payload: [UInt8],
        on socket: borrowing UDPSocket,
        driver: MachineDriver,
        expectReply: Bool = true,
        onEvent: (Event) -> Void
    ) throws(UDPError) -> Bool {
        send(payload, expectReply: expectReply)
        try driver.run(&self, on: socket, onEvent: onEvent)
        if let failure { throw failure.udpError }
        return answered ?? false
    }
}

extension FramedClient {
    /// Sends `payload` on `socket` (connected to ``destination``) and runs the client on `driver`, with
    /// retries, until its reply or the policy gives up.
    ///
    /// - Returns: The reply payload, or the ``Failure`` when none came (nil when `driver`'s stop ended it).
    /// - Throws: `UDPError` when the socket fails or the destination refuses (ICMP port unreachable, carried
    ///   as a blocking receive's error would: ``ExchangeFailure/udpError``); `RequestReplyClient.StartError`
    ///   when the payload cannot be framed.
    public mutating func exchange(
        _ payload: [UInt8],
        on socket: borrowing UDPSocket,
        driver: MachineDriver,
        onEvent: (Event) -> Void = { _ in }
    ) throws -> Result<[UInt8], Failure>? {
        try start(payload, at: .now())
        try driver.run(&self, on: socket, onEvent: onEvent)
        if let failure { throw failure.udpError }
        return outcome
    }
}
