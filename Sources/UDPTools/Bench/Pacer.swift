import UDP

/// Spaces sends evenly at a rate: by time `t` after the start, at most `1 + t × rate` may have gone out. What a
/// stall left unsent is forgiven beyond `burst`, so a pause is never made up by a flood.
///
/// Holds no clock: the caller passes nanoseconds on the monotonic clock.
package struct Pacer {
    /// Datagrams per second; 0 means no pacing.
    package let rate: Double
    /// When pacing starts, in nanoseconds on ``MonotonicClock``: the first datagram may go out then.
    package let start: UInt64
    /// The most datagrams that may go out at once after a stall; at least 1.
    package let burst: Int
    private var released = 0

    /// - Parameters:
    ///   - rate: Datagrams per second; 0 (or less) turns pacing off.
    ///   - start: When the first datagram may go out, in nanoseconds on ``MonotonicClock``.
    ///   - burst: The most datagrams released at once after a stall; raised to 1 when smaller.
    package init(rate: Double, start: UInt64, burst: Int) {
        self.rate = rate
        self.start = start
        self.burst = max(1, burst)
    }

    /// A pacer whose first datagram may go out at `start`, an instant rather than its nanoseconds.
    package init(rate: Double, start: MonotonicInstant, burst: Int) {
        self.init(rate: rate, start: start.nanoseconds, burst: burst)
    }

    /// How many may go out at `now` (`Int.max` without pacing).
    package mutating func available(at now: UInt64) -> Int {
        guard rate > 0 else { return .max }
        let due = Int(Double(now > start ? now - start : 0) * rate / 1e9) + 1
        if due - released > burst { released = due - burst }
        return due - released
    }

    /// Records that `count` went out.
    package mutating func consume(_ count: Int) {
        released += count
    }

    /// When the next one may go out; nil without pacing.
    package var nextRelease: UInt64? {
        guard rate > 0 else { return nil }
        return start + UInt64(Double(released) * 1e9 / rate)
    }
}
