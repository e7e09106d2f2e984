import UDP

/// What became of a datagram a ``DatagramMachine`` gave its driver, told back in
/// ``DatagramMachine/handleSendReport(_:at:)``.
public enum SendReport: Sendable {
    /// The kernel took the datagram. `sentAt` is the wall clock just before the send (an NTP request's T1);
    /// `stampID` is the number its kernel send timestamp will carry, when the socket has them on
    /// (`SendTimestamp.id`: sends counted on that socket, from 0).
    case sent(OutboundDatagram, socket: Int, sentAt: WallClockTime, stampID: UInt32)
    /// The kernel refused it with an error that stops nothing: an ICMP error an earlier datagram drew (which
    /// the kernel reports on this send; it never left), the interface gone, no route. The driver reports any
    /// other error by ending its run.
    case failed(OutboundDatagram, socket: Int, error: UDPError)
    /// The kernel's send timestamp, read from the socket's error queue: when the datagram numbered `id` left.
    case kernelTimestamp(id: UInt32, socket: Int, time: WallClockTime)
}
