import UDPTools

/// The numbers a `ping` or `bench` run ends with: counts, rates and round-trip statistics, as text pieces for
/// the summary and as the `--json` object.
struct LatencySummary {
    var counts: ProbeCounts
    /// Replies that held no probe of this run.
    var foreign = 0
    /// Errors the kernel reported instead of a reply or a send (ICMP port unreachable: `connection refused`).
    var errors = 0
    var latency: LatencyRecorder
    /// Seconds from the first probe to the end of sending.
    var duration: Double
    /// Bytes of payload in each probe.
    var payloadSize: Int

    /// The percentiles every summary shows, with their names in text and in JSON.
    static let percentiles: [(percentile: Double, label: String, key: String)] = [
        (50, "p50", "p50_us"), (90, "p90", "p90_us"), (99, "p99", "p99_us"), (99.9, "p99.9", "p999_us"),
    ]

    /// Lost probes as a share of those sent, in percent.
    var lossPercent: Double { counts.sent > 0 ? Double(counts.lost) * 100 / Double(counts.sent) : 0 }

    /// Replies (first ones, within the timeout) per second of the run.
    var packetsPerSecond: Double { duration > 0 ? Double(counts.received) / duration : 0 }

    /// Payload bits of those replies per second, in millions: the goodput, without UDP and IP headers.
    var megabitsPerSecond: Double { packetsPerSecond * Double(payloadSize) * 8 / 1e6 }

    /// The fields both commands print with `--json`, added to `object`.
    func addFields(to object: inout JSONObject) {
        object.add("sent", counts.sent)
        object.add("received", counts.received)
        object.add("lost", counts.lost)
        object.add("loss_pct", lossPercent, decimals: 6)
        object.add("duplicates", counts.duplicates)
        object.add("reordered", counts.reordered)
        object.add("late", counts.late)
        object.add("foreign", foreign)
        object.add("errors", errors)
        object.add("pps", packetsPerSecond, decimals: 1)
        object.add("mbps", megabitsPerSecond, decimals: 3)
        object.add("min_us", Self.microseconds(latency.count > 0 ? Double(latency.minimum) : nil), decimals: 3)
        object.add("avg_us", Self.microseconds(latency.mean), decimals: 3)
        object.add("mdev_us", Self.microseconds(latency.meanDeviation), decimals: 3)
        for (percentile, _, key) in Self.percentiles {
            object.add(key, Self.microseconds(latency.percentile(percentile).map { Double($0) }), decimals: 3)
        }
        object.add("max_us", Self.microseconds(latency.count > 0 ? Double(latency.maximum) : nil), decimals: 3)
        object.add("duration_s", duration, decimals: 6)
    }

    private static func microseconds(_ nanoseconds: Double?) -> Double? { nanoseconds.map { $0 / 1000 } }
}
