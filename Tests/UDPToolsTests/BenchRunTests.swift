import Synchronization
import Testing
import UDP

@testable import UDPTools

@Suite struct BenchRunTests {
    @Test("the live line's rates: replies per second over the interval, loss among answered or lost, Mbit/s")
    func progress() {
        var before = ProbeCounts()
        before.received = 1_000
        before.lost = 10
        var now = before
        now.received += 3_000
        now.lost += 1_000
        let progress = BenchProgress(
            counts: now,
            since: before,
            over: .milliseconds(500),
            elapsed: .seconds(3),
            p99: .microseconds(52),
            payloadSize: 125
        )
        #expect(progress.packetsPerSecond == 6_000)
        #expect(progress.megabitsPerSecond == 6)
        #expect(progress.lossPercent == 25)
        #expect(progress.elapsed == .seconds(3) && progress.p99 == .microseconds(52))
        let idle = BenchProgress(
            counts: now,
            since: now,
            over: .seconds(1),
            elapsed: .seconds(4),
            p99: nil,
            payloadSize: 1
        )
        #expect(idle.packetsPerSecond == 0 && idle.lossPercent == 0 && idle.p99 == nil)
    }

    @Test("the workers' results merged: counts, foreign and errors added, round trips pooled, to the last stop")
    func merge() {
        let configuration = BenchWorker.Configuration(
            destination: .loopbackV4(port: 9),
            payloadSize: 64,
            window: 1,
            rate: 0,
            lossTimeout: .seconds(1),
            start: MonotonicInstant(nanoseconds: 5_000_000_000),
            end: MonotonicInstant(nanoseconds: 7_000_000_000),
            live: false,
            offload: false
        )
        var results: [BenchWorker.Result] = []
        for (index, stoppedAt) in [7_000_000_000, 6_500_000_000].enumerated() {
            var result = BenchWorker.Result(latency: LatencyRecorder(highest: .seconds(1)))
            result.counts.sent = 10 * (index + 1)
            result.counts.received = 9 * (index + 1)
            result.counts.lost = index + 1
            result.foreign = index
            result.errors = 2
            result.latency.record(.nanoseconds(1_000 * (index + 1)))
            result.stoppedAt = MonotonicInstant(nanoseconds: UInt64(stoppedAt))
            results.append(result)
        }
        let summary = BenchRun.summary(of: results, configuration)
        #expect(summary.counts.sent == 30 && summary.counts.received == 27 && summary.counts.lost == 3)
        #expect(summary.foreign == 1 && summary.errors == 4)
        #expect(summary.latency.count == 2 && summary.latency.maximum ?? .zero >= .microseconds(2))
        #expect(summary.duration == .seconds(2))
        #expect(summary.payloadSize == 64)
    }

    @Test("two workers against a reflector: progress while they run, received + lost = sent at the end")
    func runsWorkers() throws {
        let server = SharedUDPSocket(try UDPSocket(bindingTo: .loopbackV4(port: 0)))
        let target = try server.socket.localAddress
        let ticks = Mutex(0)
        var summary: LatencySummary?
        _ = try withEngine(
            { stop in
                var reflector = Reflector()
                try? reflector.run(server.socket, until: stop)
                return reflector.counters.replied
            },
            test: {
                let start = MonotonicInstant.now()
                var run = BenchRun(
                    configuration: BenchWorker.Configuration(
                        destination: target,
                        payloadSize: 64,
                        window: 8,
                        rate: 2_000,
                        lossTimeout: .milliseconds(500),
                        start: start,
                        end: start + .milliseconds(400),
                        live: false,
                        offload: true
                    ),
                    workers: 2
                )
                run.progressInterval = .milliseconds(100)
                summary = try run.run { progress in
                    #expect(progress.elapsed >= .milliseconds(100))
                    ticks.withLock { $0 += 1 }
                }
            }
        )
        let counts = try #require(summary).counts
        #expect(counts.sent > 0 && counts.received + counts.lost == counts.sent)
        #expect(ticks.withLock { $0 } >= 2)
    }

    @Test("a worker that cannot reach its server fails the run with its words")
    func failure() throws {
        let start = MonotonicInstant.now()
        let run = BenchRun(
            configuration: BenchWorker.Configuration(
                // Port 0 cannot be connected to: the worker fails at once.
                destination: .loopbackV4(port: 0),
                payloadSize: 64,
                window: 1,
                rate: 0,
                lossTimeout: .milliseconds(100),
                start: start,
                end: start + .milliseconds(100),
                live: false,
                offload: false
            ),
            workers: 2
        )
        #expect(throws: BenchFailure.self) { _ = try run.run() }
    }
}
