#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Now. A machine never calls this: its driver does.
    ///
    /// The corresponding C function is `clock_gettime(2)` with `CLOCK_REALTIME`, the clock the kernel's
    /// datagram timestamps use.
    public static func now() -> WallClockTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return WallClockTime(nanosecondsSince1970: UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec))
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
