/// What happened to a request, or to a datagram that arrived, in a ``RequestReplyClient``.
public enum ClientEvent: Sendable, Hashable {
    /// Why an arriving datagram was dropped without completing anything.
    public enum Ignored: Sendable, Hashable, CustomStringConvertible {
        /// A second reply to a request already answered: the reply to an earlier attempt, or a network
        /// duplicate.
        case duplicate
        /// A reply to a request that already failed or was cancelled.
        case late
        /// A reply whose request id this client never issued, or has long forgotten.
        case unknown
        /// Not a well-formed reply frame: garbage, a request, or a frame without a request id.
        case malformed

        /// What it was, for people: `a duplicate reply`.
        public var description: String {
            switch self {
            case .duplicate: "a duplicate reply"
            case .late: "a late reply (its request had ended)"
            case .unknown: "a reply to a request id never sent"
            case .malformed: "not a framed reply"
            }
        }
    }

    /// The request's reply arrived: its payload.
    case completed(RequestID, [UInt8])
    /// The request gave up: ``RequestError/noReply(attempts:)`` or ``RequestError/deadlineExceeded``.
    case failed(RequestID, RequestError)
    /// A datagram that completed nothing, and why.
    case ignored(Ignored)
}
