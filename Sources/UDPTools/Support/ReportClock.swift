/// When an engine next hands its counters to a reporter (`--stats`): every `interval` nanoseconds on
/// ``MonotonicClock``, or never. One clock for every engine's loop, which also sleeps no later than
/// ``deadline``.
struct ReportClock {
    private let interval: UInt64?
    /// When the next report is due; nil when there are none.
    private(set) var deadline: UInt64?

    init(interval: UInt64?) {
        self.interval = interval
        deadline = interval.map { MonotonicClock.now() + $0 }
    }

    /// True, with the next report scheduled, when one is due at `now` (read from the clock when nil, and only
    /// when reports are on).
    mutating func isDue(at now: UInt64? = nil) -> Bool {
        guard let due = deadline, let interval, (now ?? MonotonicClock.now()) >= due else { return false }
        deadline = due + interval
        return true
    }
}
