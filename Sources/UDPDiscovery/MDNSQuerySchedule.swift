import UDP

/// When a continuous mDNS query is sent (RFC 6762 §5.2), without a clock: the first after a random 20–120 ms
/// (so hosts that start together do not all ask at once), then at intervals that double from one second up to
/// an hour.
public struct MDNSQuerySchedule: Sendable {
    /// The longest interval between two queries: an hour.
    public static let maximumInterval = Duration.seconds(3_600)
    /// The interval after the first query: a second.
    public static let firstInterval = Duration.seconds(1)
    /// The range the random delay before the first query is drawn from.
    public static let firstDelays = Duration.milliseconds(20)...Duration.milliseconds(120)
    /// When the next query is due.
    public private(set) var nextQuery: MonotonicInstant
    /// The time from the query due to the one after it.
    public private(set) var interval = Self.firstInterval

    /// A schedule whose first query comes `firstDelay` after `now`.
    ///
    /// - Parameters:
    ///   - now: When the querier starts.
    ///   - firstDelay: The delay before the first query; ``randomFirstDelay(using:)`` draws one.
    public init(startingAt now: MonotonicInstant, firstDelay: Duration) {
        nextQuery = now + firstDelay
    }

    /// A schedule whose first query comes after a random 20–120 ms drawn from `generator`.
    public init(startingAt now: MonotonicInstant, using generator: inout some RandomNumberGenerator) {
        self.init(startingAt: now, firstDelay: Self.randomFirstDelay(using: &generator))
    }

    /// A delay drawn from ``firstDelays``, to the millisecond.
    public static func randomFirstDelay(using generator: inout some RandomNumberGenerator) -> Duration {
        .milliseconds(Int64.random(in: 20...120, using: &generator))
    }

    /// Records that the query due was sent, and moves ``nextQuery`` on by the interval, which then doubles.
    public mutating func sent() {
        nextQuery = nextQuery + interval
        interval = min(interval * 2, Self.maximumInterval)
    }

    /// Records that the query due was sent at `now`, and moves ``nextQuery`` on past `now`: the queries a late
    /// caller missed (a process stopped, a machine asleep) are not sent in a burst, each interval doubling all
    /// the same.
    public mutating func sent(at now: MonotonicInstant) {
        repeat { sent() } while nextQuery <= now
    }
}
