/// A time on the wall clock (`CLOCK_REALTIME`), in nanoseconds since 1970: what NTP exchanges and what the
/// kernel stamps datagrams with. A type of its own so that it is never mixed with a ``MonotonicInstant``:
/// the wall clock steps (NTP, an administrator), so an interval between two wall-clock times can be wrong, even
/// negative, and a deadline belongs on the monotonic clock.
public struct WallClockTime: Sendable, Hashable, Comparable {
    /// Nanoseconds since 1970-01-01 00:00:00 UTC.
    public var nanosecondsSince1970: UInt64

    /// The time `nanosecondsSince1970` after the epoch: a kernel timestamp, or a test's.
    public init(nanosecondsSince1970: UInt64) {
        self.nanosecondsSince1970 = nanosecondsSince1970
    }

    /// Now, as ``WallClock/now()`` reads it. A machine never calls this: its driver does.
    public static func now() -> WallClockTime {
        WallClockTime(nanosecondsSince1970: WallClock.now())
    }

    /// The time from this one to `other`: negative when `other` is earlier (or the clock stepped back).
    public func duration(to other: WallClockTime) -> Duration {
        other.nanosecondsSince1970 >= nanosecondsSince1970
            ? .nanoseconds(Int64(clamping: other.nanosecondsSince1970 - nanosecondsSince1970))
            : .zero - .nanoseconds(Int64(clamping: nanosecondsSince1970 - other.nanosecondsSince1970))
    }

    public static func < (lhs: WallClockTime, rhs: WallClockTime) -> Bool {
        lhs.nanosecondsSince1970 < rhs.nanosecondsSince1970
    }
}
