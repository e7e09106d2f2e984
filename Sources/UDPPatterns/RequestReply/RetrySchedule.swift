import UDP

/// The retry timer of one request, sans-I/O: says when to send each attempt and when to give up, given
/// the current time, a `MonotonicInstant` the caller reads (or a test makes up). ``RequestReplyClient`` keeps
/// one per outstanding request, and UDPDNS's stub resolver one per query; a blocking client can drive one
/// directly:
///
/// ```swift
/// var schedule = RetrySchedule(policy: policy, start: .now())
/// var generator = SystemRandomNumberGenerator()
/// loop: while true {
///     switch schedule.decision(now: .now()) {
///     case .send(let attempt):
///         try socket.send(request)
///         schedule.recordAttempt(now: .now(), using: &generator)
///     case .wait(let until):
///         if let reply = try socket.receive(timeout: until - .now()) { handle(reply); break loop }
///     case .giveUp(let error):
///         throw error
///     }
/// }
/// ```
///
/// A caller that has a reason to send before the wait ends (an ICMP error that ended the attempt early) may
/// call ``recordAttempt(now:using:)`` without asking ``decision(now:)``; the next wait counts from then.
public struct RetrySchedule: Sendable, Hashable {
    /// What to do now.
    public enum Decision: Sendable, Hashable {
        /// Send attempt `attempt` (from 1), then call ``RetrySchedule/recordAttempt(now:using:)``.
        case send(attempt: Int)
        /// Nothing until `until`, unless a reply comes.
        case wait(until: MonotonicInstant)
        /// Stop: the request failed.
        case giveUp(RequestError)
    }

    /// The policy followed.
    public let policy: RetryPolicy
    /// When the exchange began; the overall deadline counts from here.
    public let start: MonotonicInstant
    /// Attempts sent so far.
    public private(set) var attemptsSent = 0
    // When the latest attempt's wait ends, before the deadline cuts it short.
    private var waitEnd: MonotonicInstant?

    /// Creates the schedule of an exchange that begins at `start`; the first attempt is due at once.
    public init(policy: RetryPolicy, start: MonotonicInstant) {
        self.policy = policy
        self.start = start
    }

    /// When the overall deadline passes, if the policy has one.
    public var overallDeadline: MonotonicInstant? { policy.deadline.map { start + $0 } }

    /// When the decision next changes by itself: the end of the latest attempt's wait, or the overall
    /// deadline if sooner; before the first attempt, the overall deadline (the first attempt is due now).
    public var nextDeadline: MonotonicInstant? {
        guard let waitEnd else { return overallDeadline }
        guard let overallDeadline else { return waitEnd }
        return min(waitEnd, overallDeadline)
    }

    /// What to do at `now`. Asking does not change the schedule.
    public func decision(now: MonotonicInstant) -> Decision {
        let deadlinePassed = overallDeadline.map { now >= $0 } ?? false
        guard let waitEnd else {
            return deadlinePassed ? .giveUp(.deadlineExceeded) : .send(attempt: 1)
        }
        if let deadline = nextDeadline, now < deadline { return .wait(until: deadline) }
        if attemptsSent < policy.attempts {
            return deadlinePassed ? .giveUp(.deadlineExceeded) : .send(attempt: attemptsSent + 1)
        }
        // All attempts sent: the last wait ran out, unless the deadline cut it short.
        if let overallDeadline, overallDeadline < waitEnd { return .giveUp(.deadlineExceeded) }
        return .giveUp(.noReply(attempts: attemptsSent))
    }

    /// Records that the attempt ``decision(now:)`` asked for was sent at `now`, and draws its wait.
    ///
    /// - Returns: When its wait ends (the new ``nextDeadline``).
    @discardableResult
    public mutating func recordAttempt(
        now: MonotonicInstant,
        using generator: inout some RandomNumberGenerator
    ) -> MonotonicInstant {
        precondition(attemptsSent < policy.attempts, "all \(policy.attempts) attempts were already sent")
        attemptsSent += 1
        waitEnd = now + policy.wait(afterAttempt: attemptsSent, using: &generator)
        return nextDeadline!
    }
}
