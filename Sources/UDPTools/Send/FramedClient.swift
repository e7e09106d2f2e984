import UDP
import UDPPatterns

/// The engine of `udp send --framed`: UDPPatterns' sans-I/O `RequestReplyClient` drives a blocking socket,
/// so replies are matched by request id and a late reply to an earlier attempt or message never passes for
/// this one's.
public struct FramedClient {
    /// What happened, for a caller that prints.
    public enum Event {
        /// Attempt `attempt` of request `requestID` went out.
        case sent(requestID: RequestID, attempt: Int)
        /// A datagram that was no reply to this request, with the client's word for it.
        case ignored(String)
    }

    /// Why a request ended without a reply.
    public struct Failure: Error, CustomStringConvertible {
        /// The client's reason (no reply after N attempts, deadline passed…).
        public var reason: RequestError
        /// Datagrams came back that were no framed replies: an unframed echo answers like that.
        public var sawUnframedReplies: Bool

        public var description: String {
            var text = "\(reason)"
            if sawUnframedReplies {
                // An RFC 862 echo sends the request frame back: it arrives, but is no reply.
                text += " (datagrams came back, but not as framed replies: is the server `udp echo --framed`?)"
            }
            return text
        }
    }

    /// The server, `udp echo --framed` or another `IdempotentServer`; the socket given to
    /// ``exchange(_:_:onEvent:)`` is connected to it.
    public let destination: SocketAddress
    /// The sans-I/O client, with its counters.
    public private(set) var client: RequestReplyClient

    /// - Parameters:
    ///   - destination: The server.
    ///   - policy: Attempts and their waits, for every request (`RetryPolicy` of UDPPatterns).
    public init(destination: SocketAddress, policy: RetryPolicy) {
        self.destination = destination
        client = RequestReplyClient(policy: policy)
    }

    /// Sends `payload` on `socket` (connected to ``destination``) with retries until its reply or the
    /// policy gives up.
    ///
    /// - Returns: The reply payload, or the ``Failure`` when none came.
    /// - Throws: `UDPError` when the socket fails or the destination refuses (ICMP port unreachable);
    ///   `RequestReplyClient.StartError` when the payload cannot be framed.
    public mutating func exchange(
        _ payload: [UInt8],
        _ socket: borrowing UDPSocket,
        onEvent: (Event) -> Void = { _ in }
    ) throws -> Result<[UInt8], Failure> {
        let clock = ContinuousClock()
        let id = try client.start(payload, now: clock.now)
        while true {
            while let transmit = client.pollTransmit(now: clock.now) {
                try socket.send(transmit.bytes)
                onEvent(.sent(requestID: transmit.requestID, attempt: transmit.attempt))
            }
            while let event = client.pollEvent() {
                if case .failed(id, let error) = event {
                    return .failure(Failure(reason: error, sawUnframedReplies: client.counters.malformed > 0))
                }
            }
            let wait = (client.nextDeadline ?? clock.now) - clock.now
            guard let datagram = try socket.receive(timeout: max(wait, .zero)) else {
                client.handleTimeout(now: clock.now)
                continue
            }
            switch client.handleDatagram(datagram.payload, now: clock.now) {
            case .completed(id, let reply):
                return .success(reply)
            case .ignored(let reason):
                onEvent(.ignored("\(reason)"))
            case let other:
                onEvent(.ignored("\(other)"))  // an event about another request: this one waits on
            }
        }
    }
}
