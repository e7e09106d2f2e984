import UDP
import UDPPatterns

// What `udp send` prints for its clients' events: on stderr, under --verbose, except that no reply is always said.

extension DatagramClient.Event {
    /// Whether it is shown only when asked (`--verbose`): every event but the end of a wait with no reply.
    package var isDetail: Bool {
        if case .noReply = self { return false }
        return true
    }

    /// `sent 5 bytes to 127.0.0.1:9999 (retry 1)`, `reply from …: 5 bytes`, `ignored a datagram from …: …`,
    /// `discarded a late reply from …`, `no reply within 2 seconds (3 attempts)`.
    ///
    /// - Parameter destination: Where the client sends.
    package func text(destination: SocketAddress) -> String {
        switch self {
        case .sent(let size, let attempt):
            "sent \(size) bytes to \(destination)" + (attempt > 0 ? " (retry \(attempt))" : "")
        case .reply(let datagram): "reply from \(datagram.sender.unmapped): \(datagram.length) bytes"
        case .rejected(let sender, let reason): "ignored a reply from \(sender): \(reason)"
        case .ignored(let sender, .late): "discarded a late reply from \(sender)"
        case .ignored(let sender, let reason): "ignored a datagram from \(sender): \(reason)"
        case .noReply(let total, let attempts):
            "no reply within \(NumberFormat.seconds(total)) seconds" + (attempts == 1 ? "" : " (\(attempts) attempts)")
        }
    }
}

extension FramedClient.Event: CustomStringConvertible {
    /// `sent request 7, attempt 2`, `ignored a datagram: …`.
    public var description: String {
        switch self {
        case .sent(let id, let attempt): "sent request \(id), attempt \(attempt)"
        case .ignored(let reason): "ignored a datagram: \(reason)"
        }
    }
}
