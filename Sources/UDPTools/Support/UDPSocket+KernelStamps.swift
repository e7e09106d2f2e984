import UDP

extension UDPSocket {
    /// Turns on the kernel's stamps both ways (when each datagram sent left the stack, when each received one
    /// arrived), as the round-trip engines want them: ping's probes and NTP's T1 and T4.
    ///
    /// - Returns: Nil when both are on; otherwise why not (the engine then measures with its own clock and says
    ///   so).
    public func enableKernelStamps() -> String? {
        do throws(UDPError) {
            try setReceiveTimestamps(true)
            try setSendTimestamps(true)
            return nil
        } catch {
            return error.reason
        }
    }
}
