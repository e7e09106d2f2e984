#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds on the monotonic clock, as plain integers: `ping` and `bench` stamp every send and every
/// received batch, and keep the stamps in preallocated slots, so an integer beats an `Instant`.
///
/// The corresponding C function is `clock_gettime(2)` with `CLOCK_MONOTONIC` (a vDSO call on Linux: no
/// kernel entry).
package enum MonotonicClock {
    /// Nanoseconds since an arbitrary point (the boot, on Linux), never going back: only differences between
    /// two readings mean anything.
    package static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// `seconds` in nanoseconds, for option values already checked to be positive and finite.
    package static func nanoseconds(seconds: Double) -> UInt64 {
        UInt64((seconds * 1e9).rounded())
    }

    /// `seconds` to the nanosecond, for option values already checked to be positive and finite.
    package static func duration(seconds: Double) -> Duration {
        duration(nanoseconds: nanoseconds(seconds: seconds))
    }

    /// `duration` in nanoseconds, 0 for a negative one, clamped where it would overflow.
    package static func nanoseconds(_ duration: Duration) -> UInt64 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        return UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// A wait of `nanoseconds`, for `UDPSocket.receive(into:timeout:)` and `waitUntilReadable`.
    package static func duration(nanoseconds: UInt64) -> Duration {
        .nanoseconds(Int64(clamping: nanoseconds))
    }
}
