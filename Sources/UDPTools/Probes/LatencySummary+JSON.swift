import UDPPatterns

extension LatencySummary {
    /// The fields `ping` and `bench` print with `--json`, added to `object`.
    package func addFields(to object: inout JSONObject) {
        object.add("sent", counts.sent)
        object.add("received", counts.received)
        object.add("lost", counts.lost)
        object.add("loss_pct", lossPercent, decimals: 6)
        object.add("duplicates", counts.duplicates)
        object.add("reordered", counts.reordered)
        object.add("late", counts.late)
        object.add("foreign", foreign)
        object.add("errors", errors)
        object.add("icmp_errors", icmpErrors)
        object.add("pps", packetsPerSecond, decimals: 1)
        object.add("mbps", megabitsPerSecond, decimals: 3)
        object.add("min_us", latency.minimumMicroseconds, decimals: 3)
        object.add("avg_us", latency.meanNanoseconds.map { $0 / 1000 }, decimals: 3)
        object.add("mdev_us", latency.meanDeviationNanoseconds.map { $0 / 1000 }, decimals: 3)
        for (percentile, _, key) in Self.percentiles {
            object.add(key, latency.percentileMicroseconds(percentile), decimals: 3)
        }
        object.add("max_us", latency.maximumMicroseconds, decimals: 3)
        if let timestamps {
            // ping: which clock the keys above used, and the user-space figures beside them.
            let user = userLatency ?? latency
            object.add("timestamps", timestamps)
            object.add("user_min_us", user.minimumMicroseconds, decimals: 3)
            for (percentile, key) in [(50.0, "user_p50_us"), (99.0, "user_p99_us")] {
                object.add(key, user.percentileMicroseconds(percentile), decimals: 3)
            }
            object.add("user_max_us", user.maximumMicroseconds, decimals: 3)
            object.add("clock_steps", clockSteps)
        }
        object.add("duration_s", durationSeconds, decimals: 6)
    }
}

extension LatencyRecorder {
    /// The smallest round trip in microseconds, nil before the first.
    fileprivate var minimumMicroseconds: Double? { count > 0 ? Double(minimumNanoseconds) / 1000 : nil }
    /// The largest round trip in microseconds, nil before the first.
    fileprivate var maximumMicroseconds: Double? { count > 0 ? Double(maximumNanoseconds) / 1000 : nil }
    /// The round trip at `percentile` in microseconds, nil before the first.
    fileprivate func percentileMicroseconds(_ percentile: Double) -> Double? {
        percentileNanoseconds(percentile).map { Double($0) / 1000 }
    }
}
