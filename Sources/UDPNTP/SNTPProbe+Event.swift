import UDP

extension SNTPProbe {
    /// Which clock gave a sample's T1 and T4.
    public enum Timestamps: String, Sendable, Hashable {
        /// The kernel's software stamps: when the request left the stack, and when the reply arrived in it.
        case kernel
        /// This process's wall-clock readings around its send and receive calls.
        case user
    }

    /// What happened, in order.
    public enum Event: Sendable {
        /// Request `index` (from 0) got a valid reply.
        case sample(index: Int, NTPSample, clock: Timestamps)
        /// Request `index` had no valid reply within the timeout, or could not be sent at all.
        case timeout(index: Int)
        /// The server answered request `index` with a kiss-o'-death; `nextInterval` is the interval after
        /// backing off (`RATE`), nil when the run stops (`DENY`, `RSTR`, or a code it does not know).
        case kissOfDeath(index: Int, KissCode, nextInterval: Duration?)
        /// An ICMP error (or a local one) for request `index`: the server's port or host unreachable.
        case deliveryError(index: Int, DeliveryError)
        /// A datagram that was no valid reply, and why; or an ICMP error that did not count (an `icmp` reason),
        /// with its sender at port 0.
        case ignored(sender: SocketAddress, reason: SNTPIgnoredReason)
    }

    /// Why a request had no sample: what ``SNTPProbe/lastFailure`` holds.
    public enum Failure: Sendable, Hashable {
        /// No valid reply within the timeout.
        case noReply(timeout: Duration)
        /// The server sent a kiss-o'-death with this code.
        case kissOfDeath(KissCode)
        /// An ICMP error (or a local one) about the request: the server's port or host unreachable.
        case deliveryError(DeliveryError)
        /// Every one of `tries` sends failed on an ICMP error that an earlier datagram drew (or a forger sent).
        case unsent(tries: Int)
    }
}
