import Testing
import UDPPatterns

@Suite struct RetryPolicyTests {
    /// `udp send`'s schedule, computed as `Send.retrySchedule` computes it.
    func udpSendSchedule(retries: Int, timeout: Double, backoff: Double) -> [Duration] {
        (0...retries).map { attempt in
            .seconds(timeout * (0..<attempt).reduce(1) { value, _ in value * backoff })
        }
    }

    @Test func reproducesUDPSendWithoutJitter() {
        let policy = RetryPolicy(attempts: 4, timeout: .milliseconds(100), backoff: 2)
        #expect(
            policy.nominalWaits == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)]
        )
        #expect(policy.nominalWaits == udpSendSchedule(retries: 3, timeout: 0.1, backoff: 2))
        var generator = SeededGenerator(seed: 1)
        #expect(policy.waits(using: &generator) == policy.nominalWaits)
    }

    @Test(arguments: [0.001, 0.05, 0.1, 0.25, 0.3, 0.5, 0.7, 1, 1.5, 2, 3.3, 10, 86_400])
    func matchesUDPSendToTheAttosecond(timeout: Double) {
        for backoff in [1, 1.1, 1.5, 2, 2.5, 3, 10, 100] {
            let policy = RetryPolicy(attempts: 8, timeout: .seconds(timeout), backoff: backoff)
            for (wait, sendWait) in zip(
                policy.nominalWaits,
                udpSendSchedule(retries: 7, timeout: timeout, backoff: backoff)
            ) {
                // Beyond 10⁹ seconds (31 years) the policy saturates, where `udp send` would go on to overflow.
                #expect(wait == min(sendWait, .seconds(1e9)), "timeout \(timeout) backoff \(backoff)")
            }
        }
    }

    @Test func capsEachWait() {
        let policy = RetryPolicy(attempts: 6, timeout: .milliseconds(100), backoff: 3, maximumWait: .seconds(1))
        #expect(
            policy.nominalWaits == udpSendSchedule(retries: 5, timeout: 0.1, backoff: 3).map { min($0, .seconds(1)) }
        )
        #expect(policy.nominalWaits[2...] == [.seconds(0.9), .seconds(1), .seconds(1), .seconds(1)])
    }

    @Test func hugeBackoffsSaturateInsteadOfOverflowing() {
        let policy = RetryPolicy(attempts: 101, timeout: .seconds(86_400), backoff: 100)
        #expect(policy.nominalWait(afterAttempt: 101) == .seconds(1e9))
    }

    @Test func theDeadlineCutsTheWaitsShort() {
        let policy = RetryPolicy(attempts: 5, timeout: .milliseconds(100), backoff: 2, deadline: .milliseconds(500))
        var generator = SeededGenerator(seed: 1)
        // 100 + 200 = 300, then only 200 of the 400 remain, and no time for a fourth attempt.
        #expect(policy.waits(using: &generator) == [.milliseconds(100), .milliseconds(200), .milliseconds(200)])
    }

    @Test func fullJitterStaysBetweenTheFloorAndTheNominalWait() {
        let policy = RetryPolicy(
            attempts: 6,
            timeout: .milliseconds(100),
            backoff: 2,
            maximumWait: .seconds(2),
            jitter: .full
        )
        var generator = SeededGenerator(seed: 2024)
        var distinct = Set<Duration>()
        for _ in 0..<2_000 {
            let waits = policy.waits(using: &generator)
            #expect(waits[0] == .milliseconds(100))  // the first wait is the floor itself
            for (index, wait) in waits.enumerated() {
                #expect(wait >= .milliseconds(100) && wait <= policy.nominalWait(afterAttempt: index + 1))
            }
            distinct.insert(waits[3])
        }
        #expect(distinct.count > 1_000)  // actually spread, not a constant
        // The spread covers the range: some near the floor, some near the top.
        #expect(distinct.min()! < .milliseconds(150) && distinct.max()! > .milliseconds(750))
    }

    @Test func jitterIsReproducibleWithASeed() {
        let policy = RetryPolicy(attempts: 5, timeout: .milliseconds(10), jitter: .full)
        var first = SeededGenerator(seed: 9)
        var second = SeededGenerator(seed: 9)
        #expect(policy.waits(using: &first) == policy.waits(using: &second))
    }
}
