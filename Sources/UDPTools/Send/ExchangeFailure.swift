import UDP

/// Why a client of `udp send` (``DatagramClient``, ``FramedClient``) stopped before its exchange was over: the
/// destination or a router refused it, or the socket failed. A reply that never came is no failure: the client
/// says so in its events and its outcome.
public enum ExchangeFailure: Error, Sendable {
    /// An ICMP error (or a local one) about the request, quoting the destination: port unreachable, network
    /// unreachable from a router, and so on.
    case deliveryError(DeliveryError)
    /// A send or receive failed: an error the kernel reported on a later send, or one the driver's run threw.
    case socketError(UDPError)
}

extension ExchangeFailure {
    /// The error a blocking socket would have thrown for it: a delivery error as a failed receive that carries
    /// it (`UDPError.deliveryError`), a socket's error as it is.
    public var udpError: UDPError {
        switch self {
        case .deliveryError(let event): UDPError(event, operation: .receive)
        case .socketError(let error): error
        }
    }
}
