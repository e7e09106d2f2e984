import Testing
import UDPPatterns
import UDPTools

@Suite struct ProbeTrackerTests {
    @Test(
        "received + lost + in flight = sent, whatever the replies do",
        arguments: [(loss: 0.0, duplicates: 0.0, reorder: 0.0), (0.3, 0.1, 0.2), (0.9, 0.5, 0.5)]
    )
    func countsAddUp(loss: Double, duplicates: Double, reorder: Double) {
        var random = SeededGenerator(seed: 42)
        var tracker = ProbeTracker(capacity: 64, lossTimeout: 1_000)
        var now: UInt64 = 0
        var held: [UInt64] = []
        for _ in 0..<5_000 {
            now += 10
            let sequence = tracker.nextSequence
            tracker.sent(1, at: now)
            tracker.expire(now: now)
            if random.chance(loss) { continue }
            if random.chance(reorder) {
                held.append(sequence)
            } else {
                _ = tracker.handleReply(sequence: sequence, at: now + 5)
            }
            if random.chance(duplicates) { _ = tracker.handleReply(sequence: sequence, at: now + 6) }
            if held.count > 3 { _ = tracker.handleReply(sequence: held.removeFirst(), at: now + 7) }
            let counts = tracker.counts
            #expect(counts.received + counts.lost + tracker.inFlight == counts.sent)
        }
        tracker.finish()
        let counts = tracker.counts
        #expect(counts.sent == 5_000)
        #expect(counts.received + counts.lost == counts.sent)
        #expect(tracker.inFlight == 0)
        if loss == 0 && duplicates == 0 { #expect(counts.lost == 0 && counts.duplicates == 0) }
        if duplicates > 0 { #expect(counts.duplicates > 0) }
        if reorder > 0 { #expect(counts.reordered > 0) }
    }

    @Test("the pacer releases rate × time, in bursts of at most its burst")
    func pacer() {
        var pacer = Pacer(rate: 1_000, start: 0, burst: 8)
        #expect(pacer.available(at: 0) <= 8)
        var sent = 0
        var now: UInt64 = 0
        while now < 1_000_000_000 {
            let ready = pacer.available(at: now)
            #expect(ready <= 8)
            pacer.consume(ready)
            sent += ready
            now += 1_000_000
        }
        #expect((995...1_009).contains(sent))
    }

    @Test("the latency recorder's percentiles and mean match the values recorded")
    func latencyRecorder() throws {
        var recorder = LatencyRecorder(highest: .milliseconds(1))
        for value in 1...1_000 { recorder.record(.nanoseconds(value * 100)) }
        #expect(recorder.count == 1_000)
        #expect(recorder.minimum == .nanoseconds(100))
        let maximum = try #require(recorder.maximum)
        #expect(maximum >= .nanoseconds(99_900) && maximum <= .nanoseconds(100_100))
        let median = try #require(recorder.percentile(50))
        #expect(median >= .nanoseconds(49_000) && median <= .nanoseconds(51_000))
        let mean = try #require(recorder.mean)
        #expect(mean > .nanoseconds(50_050 - 500) && mean < .nanoseconds(50_050 + 500))
    }
}
