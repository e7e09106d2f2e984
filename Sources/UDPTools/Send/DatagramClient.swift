import UDP
import UDPPatterns

/// The engine of `udp send`, the tutorial's client: send, wait with a timeout, resend with backoff, give up
/// with a clear answer. To a group or a broadcast address every reply within the wait is handed over.
///
/// ```swift
/// var client = DatagramClient(destination: server, policy: RetryPolicy(attempts: 3, timeout: .seconds(1)))
/// let answered = try client.exchange(Array("hi".utf8), socket) { event in print(event) }
/// ```
public struct DatagramClient {
    /// What happened, for a caller that prints.
    public enum Event {
        /// `size` bytes went to the destination; `attempt` 0 is the first, then the retries.
        case sent(size: Int, attempt: Int)
        /// A reply (opened, with a key).
        case reply(Datagram)
        /// A datagram that did not open under the key: ignored, as if it never came. Only a client with a key
        /// (`seal(with:)`, the package trait `Sealing`) has one; without the trait ``SealRejection`` is `Never`,
        /// and no such event can be made.
        case rejected(sender: SocketAddress, reason: SealRejection)
        /// A reply to an earlier message that came after its wait was over: discarded.
        case discardedLate(sender: SocketAddress)
        /// Nothing answered within `total` over `attempts` attempts.
        case noReply(total: Duration, attempts: Int)
    }

    /// Where each request goes: a server, a multicast group or a broadcast address.
    public let destination: SocketAddress
    /// True for a group or a broadcast address: wait out every attempt for all replies.
    public let manyRepliers: Bool
    /// How many attempts, and how long each waits for a reply (`RetryPolicy` of UDPPatterns).
    public let policy: RetryPolicy
    /// Seals requests and opens replies, with the package trait `Sealing` (`sealer` and `opener`, in
    /// DatagramClient+Sealing.swift); nil sends and takes them in the clear.
    var sealing: (any DatagramSealing)?

    /// A client without a key; `seal(with:)` adds one, with the package trait `Sealing`.
    ///
    /// - Parameters:
    ///   - destination: Where each request goes.
    ///   - manyRepliers: True for a group or a broadcast address: every attempt waits its whole time and
    ///     hands over every reply. False (the default) returns at the first reply.
    ///   - policy: Attempts and their waits.
    public init(destination: SocketAddress, manyRepliers: Bool = false, policy: RetryPolicy) {
        self.destination = destination
        self.manyRepliers = manyRepliers
        self.policy = policy
    }

    /// Sends `payload` and hands over its reply (or every reply, for a group or broadcast), resending as
    /// the policy says.
    ///
    /// - Parameters:
    ///   - payload: The request.
    ///   - socket: The socket to send it on (connected for a unicast destination).
    ///   - expectReply: False sends once and returns at once.
    ///   - onEvent: Called with each reply, retry and ignored datagram, in order.
    /// - Returns: False when nothing answered (after a ``Event/noReply(total:attempts:)`` event).
    /// - Throws: `UDPError`: the send failed, or the destination refused (ICMP port unreachable).
    public mutating func exchange(
        _ payload: [UInt8],
        _ socket: borrowing UDPSocket,
        expectReply: Bool = true,
        onEvent: (Event) -> Void
    ) throws(UDPError) -> Bool {
        // A reply that arrives after we gave up on the previous message must not pass for this one's.
        while let late = try? socket.receive(timeout: .zero) { onEvent(.discardedLate(sender: late.sender.unmapped)) }
        var random = SystemRandomNumberGenerator()
        let schedule = policy.waits(using: &random)
        for (attempt, wait) in schedule.enumerated() {
            let datagram = sealing == nil ? payload : sealing!.seal(payload)
            try socket.send(datagram, to: destination)
            onEvent(.sent(size: payload.count, attempt: attempt))
            guard expectReply else { return true }
            if try awaitReplies(socket, for: wait, onEvent) { return true }
        }
        onEvent(.noReply(total: schedule.reduce(Duration.zero, +), attempts: schedule.count))
        return false
    }

    /// Waits up to `wait` for a reply; for a group or broadcast, hands over every reply until `wait` is over.
    private mutating func awaitReplies(
        _ socket: borrowing UDPSocket,
        for wait: Duration,
        _ onEvent: (Event) -> Void
    ) throws(UDPError) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        var replies = 0
        while true {
            let left = deadline - clock.now
            guard left > .zero else { return replies > 0 }
            guard var datagram = try socket.receive(timeout: left) else { return replies > 0 }
            if sealing != nil {
                switch sealing!.open(datagram.payload) {
                case .success(let payload):
                    datagram.payload = payload
                case .failure(let reason):
                    onEvent(.rejected(sender: datagram.sender.unmapped, reason: reason))
                    continue
                }
            }
            replies += 1
            onEvent(.reply(datagram))
            if !manyRepliers { return true }
        }
    }
}
