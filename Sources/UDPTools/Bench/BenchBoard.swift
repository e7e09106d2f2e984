import Synchronization
import UDP

/// What `udp bench`'s worker threads share with the main thread while they run: each worker's running counts
/// and the round-trip times since the last look, for the live line; how many are still running; and a flag
/// that stops them all when one fails.
///
/// Workers publish a few times a second (not per datagram), so the lock is never contended in earnest.
public final class BenchBoard: Sendable {
    private struct Tally {
        var counts: [ProbeCounts]
        var latency: LatencyRecorder
    }

    private let tally: Mutex<Tally>
    private let running: Atomic<Int>
    private let failed = Atomic<Bool>(false)
    /// Raised when the last worker finishes: a display loop sleeps on it between redraws and ends at once.
    public let allFinished: StopSignal

    /// - Parameters:
    ///   - workers: How many workers will publish (indices `0..<workers`) and call ``finished()``.
    ///   - highest: The largest round trip expected (the loss timeout), for the shared ``LatencyRecorder``.
    /// - Throws: `UDPError` when the ``allFinished`` signal's eventfd (or pipe) cannot be made.
    public init(workers: Int, highest: Duration) throws(UDPError) {
        tally = Mutex(Tally(counts: Array(repeating: ProbeCounts(), count: workers), latency: .init(highest: highest)))
        running = Atomic(workers)
        allFinished = try StopSignal()
    }

    /// Worker `index` reports its counts so far and hands over the round-trip times recorded since its last
    /// report (its recorder is emptied, keeping its memory).
    public func publish(worker index: Int, counts: ProbeCounts, latency: inout LatencyRecorder) {
        tally.withLock { tally in
            tally.counts[index] = counts
            tally.latency.add(latency)
        }
        latency.reset()
    }

    /// The counts of all workers so far, and the 99th percentile of the round trips published since the last
    /// call (which starts a new window).
    public func takeWindow() -> (counts: ProbeCounts, p99: Duration?) {
        tally.withLock { tally in
            var total = ProbeCounts()
            for counts in tally.counts { total += counts }
            let p99 = tally.latency.percentile(99)
            tally.latency.reset()
            return (total, p99)
        }
    }

    /// A worker is done.
    public func finished() {
        if running.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { allFinished.request() }
    }

    /// True while some worker has not called ``finished()`` yet.
    public var isRunning: Bool { running.load(ordering: .acquiring) > 0 }

    /// Tells every worker to stop: one of them failed.
    public func abort() {
        failed.store(true, ordering: .relaxed)
    }

    /// True once ``abort()`` was called: every worker stops at once, counting its probes in flight lost.
    public var isAborted: Bool { failed.load(ordering: .relaxed) }
}
