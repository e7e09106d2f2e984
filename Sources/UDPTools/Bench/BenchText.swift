import UDPPatterns

// What `udp bench` prints: the live line while it runs, and the summary.

extension BenchProgress: CustomStringConvertible {
    /// The live line: `3 s: 41234 pps, 21.1 Mbit/s, loss 0%, p99 52.1 us`.
    public var description: String {
        let elapsed = Double(MonotonicClock.nanoseconds(elapsed)) / 1e9
        var line = "\(NumberFormat.fixed(elapsed, 0)) s: \(NumberFormat.fixed(packetsPerSecond, 0)) pps, "
        line += "\(NumberFormat.fixed(megabitsPerSecond, 1)) Mbit/s, "
        line += "loss \(NumberFormat.percent(lossPercent))%"
        if let p99 {
            line += ", p99 \(NumberFormat.fixed(Double(MonotonicClock.nanoseconds(p99)) / 1000, 1)) us"
        }
        return line
    }
}

extension LatencySummary {
    /// The summary of a bench run against `target`: the title, the load (`workers`, `window`, payload size,
    /// `rate` or unpaced, duration), the counts, the rates, and the round trips in microseconds (none without a
    /// reply).
    package func benchLines(target: String, workers: Int, window: Int, rate: Double) -> [String] {
        let pace = rate > 0 ? "\(NumberFormat.trimmed(rate, maximumDecimals: 3)) probes/s" : "unpaced"
        var lines = [
            "--- \(target) udp bench statistics ---",
            "\(workers) worker\(workers == 1 ? "" : "s"), window \(window), \(payloadSize)-byte payloads, \(pace), "
                + "\(NumberFormat.fixed(durationSeconds, 3)) s",
        ]
        var line = "sent \(counts.sent), received \(counts.received), lost \(counts.lost) "
        line += "(\(NumberFormat.percent(lossPercent))%), duplicates \(counts.duplicates), "
        line += "reordered \(counts.reordered)"
        for (count, name) in [(counts.late, "late"), (foreign, "foreign"), (errors, "errors")] where count > 0 {
            line += ", \(name) \(count)"
        }
        lines.append(line)
        lines.append(
            "\(NumberFormat.fixed(packetsPerSecond, 0)) pps, "
                + "\(NumberFormat.fixed(megabitsPerSecond, 3)) Mbit/s of payload"
        )
        guard latency.count > 0 else { return lines }
        let values =
            [latency.minimumNanoseconds] + Self.percentiles.map { latency.percentileNanoseconds($0.percentile) ?? 0 }
            + [latency.maximumNanoseconds]
        let labels = (["min"] + Self.percentiles.map(\.label) + ["max"]).joined(separator: "/")
        lines.append(
            "rtt \(labels) = " + values.map { NumberFormat.fixed(Double($0) / 1000, 1) }.joined(separator: "/") + " us"
        )
        return lines
    }
}
