#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant on the monotonic clock (`CLOCK_MONOTONIC`): the one time a protocol machine is told and the one it
/// schedules by, so a test can start a machine at ``zero`` and move it through an hour in a microsecond.
///
/// Only differences between two instants mean anything: the origin is arbitrary (the boot, on Linux) and the
/// clock never steps, unlike ``WallClockTime``. Arithmetic saturates at the ends rather than trapping, so a
/// deadline a machine computes from a peer's number (a TTL of 2³¹ s) can never crash it.
///
/// ```swift
/// let start = MonotonicInstant.now()
/// let deadline = start + .milliseconds(250)
/// start.duration(to: deadline)   // 0.25 seconds
/// ```
public struct MonotonicInstant: InstantProtocol, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Intervals between instants: the standard library's `Duration`.
    public typealias Duration = Swift.Duration

    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    /// The instant `nanoseconds` after the clock's origin; for tests, and for stamps an engine keeps as integers.
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The clock's origin: a fake clock's start in tests.
    public static let zero = MonotonicInstant(nanoseconds: 0)

    /// Now. A machine never calls this: its driver does, and tells the machine.
    ///
    /// The corresponding C function is `clock_gettime(2)` with `CLOCK_MONOTONIC` (a vDSO call on Linux).
    public static func now() -> MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec))
    }

    /// `duration` later (earlier when negative), saturating at the clock's origin and at its end.
    public func advanced(by duration: Duration) -> MonotonicInstant {
        let (seconds, attoseconds) = duration.components
        let delta = Int64(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let total = delta.overflow ? (seconds < 0 ? Int64.min : Int64.max) : delta.partialValue
        let nanos = total.addingReportingOverflow(attoseconds / 1_000_000_000)
        let step = nanos.overflow ? (seconds < 0 ? Int64.min : Int64.max) : nanos.partialValue
        if step >= 0 {
            let (sum, overflow) = nanoseconds.addingReportingOverflow(UInt64(step))
            return MonotonicInstant(nanoseconds: overflow ? .max : sum)
        }
        let back = step.magnitude
        return MonotonicInstant(nanoseconds: back > nanoseconds ? 0 : nanoseconds - back)
    }

    /// The time from this instant to `other`: negative when `other` is earlier.
    public func duration(to other: MonotonicInstant) -> Duration {
        other.nanoseconds >= nanoseconds
            ? .nanoseconds(Int64(clamping: other.nanoseconds - nanoseconds))
            : .zero - .nanoseconds(Int64(clamping: nanoseconds - other.nanoseconds))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// `duration` after `instant`, saturating.
    public static func + (instant: MonotonicInstant, duration: Duration) -> MonotonicInstant {
        instant.advanced(by: duration)
    }

    /// `duration` before `instant`, saturating at the origin.
    public static func - (instant: MonotonicInstant, duration: Duration) -> MonotonicInstant {
        instant.advanced(by: .zero - duration)
    }

    /// Moves `instant` on by `duration`, saturating.
    public static func += (instant: inout MonotonicInstant, duration: Duration) {
        instant = instant.advanced(by: duration)
    }

    /// The time from `earlier` to `later`: negative when `earlier` is the later one.
    public static func - (later: MonotonicInstant, earlier: MonotonicInstant) -> Duration {
        earlier.duration(to: later)
    }

    /// Seconds since the origin, for logs: `12.250000000 s`.
    public var description: String {
        let fraction = String(nanoseconds % 1_000_000_000)
        return "\(nanoseconds / 1_000_000_000).\(String(repeating: "0", count: 9 - fraction.count))\(fraction) s"
    }
}
