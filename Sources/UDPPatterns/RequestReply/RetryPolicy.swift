/// How a request is retried: how many attempts, how long to wait after each, how the waits grow, and when
/// to give up altogether. Immutable, so the checks made when it is created hold for good.
///
/// Attempt *n* (from 1) waits `timeout × backoffⁿ⁻¹`, capped at `maximumWait`:
///
/// ```swift
/// // `udp send --retries 3 --timeout 0.1 --backoff 2`: waits 0.1, 0.2, 0.4 and 0.8 seconds.
/// let policy = RetryPolicy(attempts: 4, timeout: .milliseconds(100), backoff: 2)
/// policy.nominalWaits   // [0.1 s, 0.2 s, 0.4 s, 0.8 s]
/// ```
///
/// Without jitter the waits are computed exactly as `udp send` computes its own, in `Double` seconds, so the
/// two schedules agree to the attosecond; a wait that would pass 10⁹ seconds (31 years) stays there
/// instead of overflowing `Duration`.
///
/// With ``Jitter-swift.enum/full`` each wait is drawn uniformly from `timeout … nominal` (AWS's "full
/// jitter", with a floor): clients that lost their server at the same moment then spread their retries
/// instead of returning in lockstep. The floor is the first attempt's `timeout` rather than AWS's zero
/// because `timeout` is how long a reply may take, and a retry sent sooner only doubles the traffic and
/// the replies. So the first wait is never jittered, and with a backoff of 1 (or a `maximumWait` at or
/// below `timeout`) there is no range to draw from: spread such retries with a backoff above 1. The
/// overall `deadline` cuts any wait short.
public struct RetryPolicy: Sendable, Hashable {
    /// How retry waits are randomised.
    public enum Jitter: Sendable, Hashable {
        /// Every wait is the nominal `timeout × backoffⁿ⁻¹` (capped).
        case none
        /// Every wait is uniform in `min(timeout, nominal) … nominal`: full jitter with the first wait as
        /// the floor.
        case full
    }

    /// How many times the request is sent at most, the first included: `udp send --retries N` makes N + 1.
    public let attempts: Int
    /// How long to wait for a reply to the first attempt.
    public let timeout: Duration
    /// The factor by which each wait grows over the one before (1 keeps them equal).
    public let backoff: Double
    /// The longest any one wait may grow to; nil for no cap.
    public let maximumWait: Duration?
    /// The longest the whole exchange may take, from the first attempt; nil for no limit beyond the
    /// attempts' waits.
    public let deadline: Duration?
    /// Whether waits are randomised.
    public let jitter: Jitter

    /// The longest wait computed, whatever the backoff: about 31 years, so `Duration` cannot overflow.
    static let longestWaitSeconds = 1e9

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - attempts: Sends at most, first included (at least 1).
    ///   - timeout: The wait after the first attempt (above zero).
    ///   - backoff: Growth factor of the waits (at least 1).
    ///   - maximumWait: Cap on each wait.
    ///   - deadline: Limit on the whole exchange.
    ///   - jitter: `.none` for exact waits, `.full` to spread retries.
    ///
    /// Values out of these ranges are programming errors and stop the program, as an inverted `Range`
    /// does; check user input first, as `udp send` does in `validate()`.
    public init(
        attempts: Int,
        timeout: Duration,
        backoff: Double = 2,
        maximumWait: Duration? = nil,
        deadline: Duration? = nil,
        jitter: Jitter = .none
    ) {
        precondition(attempts >= 1, "a request needs at least 1 attempt (got \(attempts))")
        precondition(timeout > .zero, "the timeout must be above zero (got \(timeout))")
        precondition(backoff >= 1 && backoff.isFinite, "the backoff must be at least 1 (got \(backoff))")
        precondition(maximumWait.map { $0 > .zero } ?? true, "the maximum wait must be above zero")
        precondition(deadline.map { $0 > .zero } ?? true, "the deadline must be above zero")
        self.attempts = attempts
        self.timeout = timeout
        self.backoff = backoff
        self.maximumWait = maximumWait
        self.deadline = deadline
        self.jitter = jitter
    }

    /// The wait after attempt `attempt` (from 1) without jitter: `timeout × backoff^(attempt − 1)`, capped.
    public func nominalWait(afterAttempt attempt: Int) -> Duration {
        precondition(attempt >= 1, "attempts count from 1")
        // The same arithmetic as `udp send`: seconds as a Double, the factor by repeated multiplication.
        let base = Double(timeout.attoseconds) / 1e18
        var factor = 1.0
        for _ in 1..<attempt where base * factor < Self.longestWaitSeconds { factor *= backoff }
        let seconds = min(base * factor, Self.longestWaitSeconds)
        let wait = attempt == 1 ? timeout : Duration.seconds(seconds)
        guard let maximumWait else { return wait }
        return min(wait, maximumWait)
    }

    /// The wait after attempt `attempt` (from 1), drawn from `generator` under ``Jitter-swift.enum/full``.
    public func wait(
        afterAttempt attempt: Int,
        using generator: inout some RandomNumberGenerator
    ) -> Duration {
        let nominal = nominalWait(afterAttempt: attempt)
        guard jitter == .full else { return nominal }
        let floor = min(timeout, nominal)
        guard floor < nominal else { return nominal }
        let drawn = Int128.random(in: floor.attoseconds...nominal.attoseconds, using: &generator)
        return Duration(attoseconds: drawn)
    }

    /// Every attempt's wait without jitter, ignoring the deadline: what `udp send` prints as its schedule.
    public var nominalWaits: [Duration] {
        (1...attempts).map { nominalWait(afterAttempt: $0) }
    }

    /// Every attempt's wait, with jitter drawn from `generator`, cut short so their sum stays within the
    /// deadline: the schedule of a client that never hears back.
    public func waits(using generator: inout some RandomNumberGenerator) -> [Duration] {
        var waits: [Duration] = []
        var elapsed = Duration.zero
        for attempt in 1...attempts {
            var wait = self.wait(afterAttempt: attempt, using: &generator)
            if let deadline {
                guard elapsed < deadline else { break }
                wait = min(wait, deadline - elapsed)
            }
            waits.append(wait)
            elapsed += wait
        }
        return waits
    }
}
