/// When a continuous mDNS query is sent (RFC 6762 §5.2), without a clock: the first after a random 20–120 ms
/// (so hosts that start together do not all ask at once), then at intervals that double from one second up to
/// an hour.
public struct MDNSQuerySchedule: Sendable {
    /// The longest interval between two queries.
    public static let maximumInterval: UInt64 = 3_600_000_000_000
    /// When the next query is due, in nanoseconds of the caller's monotonic clock.
    public private(set) var nextQuery: UInt64
    private var interval: UInt64 = 1_000_000_000

    /// - Parameters:
    ///   - now: When the querier starts.
    ///   - firstDelay: The random delay before the first query, 20–120 ms by default.
    public init(startingAt now: UInt64, firstDelay: UInt64 = UInt64.random(in: 20_000_000...120_000_000)) {
        nextQuery = now + firstDelay
    }

    /// Records that the query due was sent, and moves ``nextQuery`` on by the doubled interval.
    public mutating func sent() {
        nextQuery += interval
        interval = min(interval * 2, Self.maximumInterval)
    }
}
