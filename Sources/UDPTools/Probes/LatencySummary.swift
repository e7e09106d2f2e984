/// The numbers a `ping` or `bench` run ends with: counts, rates and round-trip statistics.
public struct LatencySummary: Sendable {
    /// What happened to the probes.
    public var counts: ProbeCounts
    /// Replies that held no probe of this run.
    public var foreign = 0
    /// Errors the kernel reported instead of a reply or a send (ICMP port unreachable: `connection refused`).
    public var errors = 0
    /// ICMP errors read from the error queue, each naming the router or host that sent it.
    public var icmpErrors = 0
    /// Every round trip of a first reply within the loss timeout, by the clock ``timestamps`` names.
    public var latency: LatencyRecorder
    /// The same round trips by the user-space clock, when ``latency`` holds the kernel's; nil otherwise.
    public var userLatency: LatencyRecorder?
    /// Which clock ``latency`` used: "kernel" or "user"; nil where the choice does not arise (bench).
    public var timestamps: String?
    /// Kernel round trips dropped because the wall clock stepped between the two stamps.
    public var clockSteps = 0
    /// The time from the first probe to the end of sending.
    public var duration: Duration
    /// Bytes of payload in each probe.
    public var payloadSize: Int

    /// Each parameter sets the property of the same name.
    ///
    /// - Parameters:
    ///   - counts: What happened to the probes.
    ///   - foreign: Replies that held no probe of this run.
    ///   - errors: Errors the kernel reported instead of a reply or a send.
    ///   - icmpErrors: ICMP errors read from the error queue.
    ///   - latency: The round trips, by the clock `timestamps` names.
    ///   - userLatency: The same round trips by the user-space clock, when `latency` holds the kernel's.
    ///   - timestamps: Which clock `latency` used: "kernel" or "user"; nil where the choice does not arise.
    ///   - clockSteps: Kernel round trips dropped because the wall clock stepped.
    ///   - duration: The time from the first probe to the end of sending.
    ///   - payloadSize: Bytes of payload in each probe.
    public init(
        counts: ProbeCounts,
        foreign: Int = 0,
        errors: Int = 0,
        icmpErrors: Int = 0,
        latency: LatencyRecorder,
        userLatency: LatencyRecorder? = nil,
        timestamps: String? = nil,
        clockSteps: Int = 0,
        duration: Duration,
        payloadSize: Int
    ) {
        self.counts = counts
        self.foreign = foreign
        self.errors = errors
        self.icmpErrors = icmpErrors
        self.latency = latency
        self.userLatency = userLatency
        self.timestamps = timestamps
        self.clockSteps = clockSteps
        self.duration = duration
        self.payloadSize = payloadSize
    }

    /// The percentiles every summary shows, with their names in text and in JSON.
    public static let percentiles: [(percentile: Double, label: String, key: String)] = [
        (50, "p50", "p50_us"), (90, "p90", "p90_us"), (99, "p99", "p99_us"), (99.9, "p99.9", "p999_us"),
    ]

    /// ``duration`` in seconds, for the rates and the output: from whole nanoseconds, the clock's unit.
    package var durationSeconds: Double { Double(MonotonicClock.nanoseconds(duration)) / 1e9 }

    /// Lost probes as a share of those sent, in percent.
    public var lossPercent: Double { counts.sent > 0 ? Double(counts.lost) * 100 / Double(counts.sent) : 0 }

    /// Replies (first ones, within the timeout) per second of the run.
    public var packetsPerSecond: Double {
        durationSeconds > 0 ? Double(counts.received) / durationSeconds : 0
    }

    /// Payload bits of those replies per second, in millions: the goodput, without UDP and IP headers.
    public var megabitsPerSecond: Double { packetsPerSecond * Double(payloadSize) * 8 / 1e6 }
}
