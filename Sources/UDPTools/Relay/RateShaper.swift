/// The `--rate` of one relay direction, as departure slots handed out when datagrams are accepted.
///
/// Each accepted datagram books the first free slot at or after the time it is ready to go, and slots are
/// `1 / rate` apart. Booking on arrival, not on sending, is what bounds the queue: the backlog is known the
/// moment a datagram arrives, so one that would wait longer than ``maximumWait`` is refused there (the
/// relay counts it `over rate`) instead of joining a queue that only grows. It also means a datagram is
/// handled once, when it is booked and when it leaves, whatever the backlog.
package struct RateShaper: Sendable {
    /// The longest a datagram may wait for its slot: one second's worth of datagrams at the rate.
    package static let maximumWait: UInt64 = 1_000_000_000

    /// Nanoseconds between two departures.
    package let interval: UInt64
    /// The earliest time the next slot may start.
    private var nextFree: UInt64 = 0

    /// A shaper for `rate` datagrams per second, or nil for no limit (0).
    package init?(rate: Double) {
        guard rate > 0 else { return nil }
        interval = max(1, UInt64((1e9 / rate).rounded()))
    }

    /// Books the slot of a datagram ready to leave at `ready` (monotonic nanoseconds).
    /// - Returns: When it leaves, or nil when that would be more than ``maximumWait`` after `ready`.
    package mutating func book(readyAt ready: UInt64) -> UInt64? {
        let slot = max(ready, nextFree)
        guard slot - ready <= Self.maximumWait else { return nil }
        nextFree = slot + interval
        return slot
    }
}
