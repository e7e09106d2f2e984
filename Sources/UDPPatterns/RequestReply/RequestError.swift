/// Why a request failed: what a caller of ``RequestReplyClient`` gets instead of a reply.
public enum RequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every attempt was sent and none was answered within its wait: the tutorial's "no reply".
    case noReply(attempts: Int)
    /// The policy's overall deadline passed before a reply came, with attempts possibly left unsent.
    case deadlineExceeded

    /// A sentence for people: `no reply after 4 attempts`.
    public var description: String {
        switch self {
        case .noReply(let attempts): attempts == 1 ? "no reply" : "no reply after \(attempts) attempts"
        case .deadlineExceeded: "no reply before the deadline"
        }
    }
}
