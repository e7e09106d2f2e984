import UDP

/// A whole `udp bench` run: ``BenchWorker``s on threads of their own, the progress of all of them every second
/// while they run, and their results merged into one ``LatencySummary`` at the end.
///
/// ```swift
/// let run = BenchRun(configuration: configuration, workers: 2)
/// let summary = try run.run { progress in print(progress.packetsPerSecond) }
/// print(summary.counts.received, summary.latency.percentile(99) ?? .zero)
/// ```
public struct BenchRun: Sendable {
    /// What each worker does; ``BenchWorker/Configuration/rate`` is each worker's share of the rate, and
    /// ``BenchWorker/Configuration/live`` is set by ``run(progress:)``.
    public var configuration: BenchWorker.Configuration
    /// Workers, each with a socket, a thread and a window of its own.
    public var workers: Int
    /// How often ``run(progress:)`` hands over the progress.
    public var progressInterval: Duration = .seconds(1)

    /// A run of `workers` workers, each doing what `configuration` says.
    public init(configuration: BenchWorker.Configuration, workers: Int) {
        precondition(workers >= 1, "a run needs a worker")
        self.configuration = configuration
        self.workers = workers
    }

    /// Runs every worker to the end of the configured time (or the stop its configuration asks about), and
    /// merges their results.
    ///
    /// - Parameter progress: Called on the calling thread about every ``progressInterval`` while the workers
    ///   run, with what they did since the last call; nil asks the workers for no progress at all.
    /// - Returns: The counts and round trips of every worker, summed.
    /// - Throws: `UDPError` when a thread or the board's signal cannot be made (the workers started are stopped
    ///   first); ``BenchFailure`` when a worker failed (the others stopped at once).
    public func run(progress: ((BenchProgress) -> Void)? = nil) throws -> LatencySummary {
        var configuration = configuration
        configuration.live = progress != nil
        let board = try BenchBoard(workers: workers, highest: configuration.lossTimeout)
        var threads = WorkerThreads<BenchWorker.Result>()
        for index in 0..<workers {
            do throws(UDPError) {
                try threads.start { [configuration] in BenchWorker.run(configuration, index: index, board: board) }
            } catch {
                board.abort()
                _ = threads.join()
                throw error
            }
        }
        if let progress { try report(board, to: progress) }
        let results = threads.join()
        if let index = results.firstIndex(where: { $0.failure != nil }), let error = results[index].failure {
            throw BenchFailure(worker: index, error: error)
        }
        return Self.summary(of: results, configuration)
    }

    /// The results of every worker as one summary: counts, foreign replies and errors added, round trips
    /// merged, over the time from the configured start to the last worker's stop.
    static func summary(of results: [BenchWorker.Result], _ configuration: BenchWorker.Configuration) -> LatencySummary
    {
        let start = configuration.start
        var summary = LatencySummary(
            counts: ProbeCounts(),
            latency: LatencyRecorder(highest: configuration.lossTimeout),
            duration: (results.map(\.stoppedAt).max() ?? start) - start,
            payloadSize: configuration.payloadSize
        )
        for result in results {
            summary.counts += result.counts
            summary.foreign += result.foreign
            summary.errors += result.errors
            summary.latency.add(result.latency)
        }
        return summary
    }

    /// Hands `progress` what the workers did every interval until the last of them finishes.
    private func report(_ board: BenchBoard, to progress: (BenchProgress) -> Void) throws(UDPError) {
        let start = configuration.start
        var last = (counts: ProbeCounts(), at: start)
        var nextTick = start + progressInterval
        // Sleeps until the next tick; the last worker to finish wakes it at once.
        while try !board.allFinished.sleep(until: nextTick) {
            let now = MonotonicInstant.now()
            guard now >= nextTick else { continue }
            nextTick += progressInterval
            let (counts, p99) = board.takeWindow()
            progress(
                BenchProgress(
                    counts: counts,
                    since: last.counts,
                    over: now - last.at,
                    elapsed: now - start,
                    p99: p99,
                    payloadSize: configuration.payloadSize
                )
            )
            last = (counts, now)
        }
    }
}

/// What a ``BenchRun``'s workers did over one interval: the rates of the live line.
public struct BenchProgress: Sendable, Equatable {
    /// Time since the run started.
    public var elapsed: Duration
    /// Replies per second over the interval.
    public var packetsPerSecond: Double
    /// Payload bits of those replies per second, in millions.
    public var megabitsPerSecond: Double
    /// Probes lost over the interval, as a share of those answered or lost in it, in percent.
    public var lossPercent: Double
    /// The 99th percentile of the round trips of the interval; nil when none came back.
    public var p99: Duration?

    /// The progress from two readings of the workers' counts.
    ///
    /// - Parameters:
    ///   - counts: The counts now.
    ///   - previous: The counts at the interval's start.
    ///   - interval: The time between the two readings.
    ///   - elapsed: Time since the run started.
    ///   - p99: The 99th percentile of the interval's round trips, if any.
    ///   - payloadSize: Bytes of payload in each probe.
    public init(
        counts: ProbeCounts,
        since previous: ProbeCounts,
        over interval: Duration,
        elapsed: Duration,
        p99: Duration?,
        payloadSize: Int
    ) {
        let seconds = Double(MonotonicClock.nanoseconds(interval)) / 1e9
        let received = counts.received - previous.received
        let lost = counts.lost - previous.lost
        self.elapsed = elapsed
        packetsPerSecond = Double(received) / seconds
        megabitsPerSecond = packetsPerSecond * Double(payloadSize) * 8 / 1e6
        lossPercent = received + lost > 0 ? Double(lost) * 100 / Double(received + lost) : 0
        self.p99 = p99
    }
}

/// A ``BenchRun`` worker failed; the others stopped at once.
public struct BenchFailure: Error, CustomStringConvertible {
    /// The worker that failed (the first, when several did).
    public var worker: Int
    /// The socket error that ended it.
    public var error: UDPError

    /// Why, worded for a person: `connect 127.0.0.1:9: …`.
    public var description: String { error.description }
}
