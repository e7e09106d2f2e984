import Testing
import UDPPatterns

@Suite struct RetryScheduleTests {
    @Test func sendsEachAttemptThenGivesUpWithNoReply() {
        var generator = SeededGenerator(seed: 3)
        let policy = RetryPolicy(attempts: 3, timeout: .milliseconds(100), backoff: 2)
        var schedule = RetrySchedule(policy: policy, start: at(0))
        #expect(schedule.decision(now: at(0)) == .send(attempt: 1))
        #expect(schedule.recordAttempt(now: at(0), using: &generator) == at(100))
        #expect(schedule.decision(now: at(99)) == .wait(until: at(100)))
        #expect(schedule.decision(now: at(100)) == .send(attempt: 2))
        schedule.recordAttempt(now: at(100), using: &generator)
        #expect(schedule.nextDeadline == at(300))
        #expect(schedule.decision(now: at(300)) == .send(attempt: 3))
        schedule.recordAttempt(now: at(305), using: &generator)  // sent a little late: the wait runs from then
        #expect(schedule.decision(now: at(704)) == .wait(until: at(705)))
        #expect(schedule.decision(now: at(705)) == .giveUp(.noReply(attempts: 3)))
        #expect(schedule.attemptsSent == 3)
    }

    @Test func theOverallDeadlineEndsItEarly() {
        var generator = SeededGenerator(seed: 3)
        let policy = RetryPolicy(attempts: 10, timeout: .milliseconds(100), backoff: 2, deadline: .milliseconds(250))
        var schedule = RetrySchedule(policy: policy, start: at(0))
        #expect(schedule.nextDeadline == at(250))
        schedule.recordAttempt(now: at(0), using: &generator)
        schedule.recordAttempt(now: at(100), using: &generator)
        #expect(schedule.nextDeadline == at(250))  // the wait would end at 300
        #expect(schedule.decision(now: at(250)) == .giveUp(.deadlineExceeded))
    }

    @Test func aDeadlineThatPassedBeforeTheFirstAttemptGivesUp() {
        let policy = RetryPolicy(attempts: 3, timeout: .milliseconds(100), deadline: .milliseconds(50))
        let schedule = RetrySchedule(policy: policy, start: at(0))
        #expect(schedule.decision(now: at(49)) == .send(attempt: 1))
        #expect(schedule.decision(now: at(50)) == .giveUp(.deadlineExceeded))
    }

    @Test func theLastWaitEndingOnTheDeadlineIsNoReply() {
        var generator = SeededGenerator(seed: 3)
        let policy = RetryPolicy(attempts: 2, timeout: .milliseconds(100), backoff: 1, deadline: .milliseconds(200))
        var schedule = RetrySchedule(policy: policy, start: at(0))
        schedule.recordAttempt(now: at(0), using: &generator)
        schedule.recordAttempt(now: at(100), using: &generator)
        #expect(schedule.decision(now: at(200)) == .giveUp(.noReply(attempts: 2)))
    }

    @Test func errorsReadAsSentences() {
        #expect(RequestError.noReply(attempts: 4).description == "no reply after 4 attempts")
        #expect(RequestError.noReply(attempts: 1).description == "no reply")
        #expect(RequestError.deadlineExceeded.description == "no reply before the deadline")
    }
}
