import Testing
import UDP

@Suite struct MonotonicInstantTests {
    @Test func addsAndMeasuresDurations() {
        let start = MonotonicInstant.zero + .seconds(10)
        #expect((start + .milliseconds(250)).nanoseconds == 10_250_000_000)
        #expect((start - .seconds(1)).nanoseconds == 9_000_000_000)
        #expect(start.duration(to: start + .microseconds(3)) == .microseconds(3))
        #expect((start + .seconds(2)).duration(to: start) == .seconds(-2))
        #expect(start < start + .nanoseconds(1))
    }

    @Test func saturatesInsteadOfTrapping() {
        let start = MonotonicInstant.zero + .seconds(1)
        #expect((start - .seconds(5)).nanoseconds == 0)
        #expect(start + .seconds(Int64.max) > start + .seconds(Int64(200 * 365 * 86_400)))
        #expect((MonotonicInstant(nanoseconds: .max - 1) + .seconds(1)).nanoseconds == .max)
    }

    @Test func nowNeverGoesBack() {
        let first = MonotonicInstant.now()
        #expect(MonotonicInstant.now() >= first)
        #expect(first.description.hasSuffix(" s"))
    }

    @Test func wallClockTimesMeasureSignedIntervals() {
        let earlier = WallClockTime(nanosecondsSince1970: 1_000)
        let later = WallClockTime(nanosecondsSince1970: 3_000)
        #expect(earlier.duration(to: later) == .nanoseconds(2_000))
        #expect(later.duration(to: earlier) == .nanoseconds(-2_000))
        #expect(WallClockTime.now() > later)
    }
}
