import UDPPatterns

extension LatencySummary {
    /// `6 packets transmitted, 5 received, 16.667% packet loss, 1 duplicates, 1 reordered`: ping(8)'s words
    /// (`queries` for `udp dns`), with the counts after the loss only when not zero.
    package func countsLine(noun: String = "packets") -> String {
        var line = "\(counts.sent) \(noun) transmitted, \(counts.received) received, "
        line += "\(NumberFormat.percent(lossPercent))% packet loss"
        let extras = [
            (counts.duplicates, "duplicates"), (counts.reordered, "reordered"), (counts.late, "late"),
            (foreign, "foreign"), (icmpErrors, "icmp errors"), (errors, "errors"), (clockSteps, "clock steps"),
        ]
        for (count, name) in extras where count > 0 { line += ", \(count) \(name)" }
        return line
    }

    /// The statistics block that `udp ping` and `udp dns --count` end with: a blank line, the title, the counts
    /// with the run's time, `note` (a clock that was not available), then ``roundTripLines``.
    package func statisticsLines(
        of target: String,
        tool: String,
        noun: String = "packets",
        note: String? = nil
    )
        -> [String]
    {
        let counts = countsLine(noun: noun) + ", time \(Int((durationSeconds * 1000).rounded()))ms"
        return ["", "--- \(target) udp \(tool) statistics ---", counts] + (note.map { [$0] } ?? []) + roundTripLines
    }

    /// The round-trip lines of `udp ping`'s statistics, none without a sample:
    ///
    ///     rtt min/avg/max/mdev = 0.041/0.063/0.101/0.020 ms (kernel timestamps)
    ///     rtt p50/p90/p99/p99.9 = 0.060/0.090/0.101/0.101 ms
    ///     user rtt min/avg/max/mdev = 0.058/0.081/0.120/0.021 ms (this process's clock, for comparison)
    package var roundTripLines: [String] {
        var lines: [String] = []
        if let line = Self.averages(latency) {
            lines.append("rtt " + line + (timestamps == "kernel" ? " (kernel timestamps)" : ""))
            let percentiles = Self.percentiles.map { Double(latency.percentileNanoseconds($0.percentile) ?? 0) }
            let labels = Self.percentiles.map(\.label).joined(separator: "/")
            lines.append("rtt \(labels) = " + Self.milliseconds(percentiles))
        }
        if timestamps == "kernel", let userLatency, let line = Self.averages(userLatency) {
            lines.append("user rtt " + line + " (this process's clock, for comparison)")
        }
        return lines
    }

    /// `min/avg/max/mdev = 0.041/0.063/0.101/0.020 ms`, or nil with no sample.
    private static func averages(_ latency: LatencyRecorder) -> String? {
        guard let mean = latency.meanNanoseconds, let deviation = latency.meanDeviationNanoseconds else { return nil }
        return "min/avg/max/mdev = "
            + milliseconds([Double(latency.minimumNanoseconds), mean, Double(latency.maximumNanoseconds), deviation])
    }

    private static func milliseconds(_ nanoseconds: [Double]) -> String {
        nanoseconds.map { NumberFormat.milliseconds(nanoseconds: $0) }.joined(separator: "/") + " ms"
    }
}
