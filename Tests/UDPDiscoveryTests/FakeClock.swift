import UDP

/// The fake clock's instant `nanoseconds` after its start: what the cache, browser and schedule tests write as
/// `fakeTime(10 * second)`.
func fakeTime(_ nanoseconds: UInt64) -> MonotonicInstant {
    MonotonicInstant(nanoseconds: nanoseconds)
}
