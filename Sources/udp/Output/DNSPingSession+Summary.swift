import UDPDNS
import UDPTools

extension DNSPingSession {
    /// The statistics of `--count`, in `udp ping`'s terms: each query is a probe, the ignored datagrams are
    /// `foreign`, the round trips (recorded from the answers) are by this process's clock.
    func summary(latency: LatencyRecorder, duration: Duration) -> LatencySummary {
        var counts = ProbeCounts()
        counts.sent = sent
        counts.received = received
        counts.lost = lost
        return LatencySummary(
            counts: counts,
            foreign: ignored.total,
            icmpErrors: icmpErrors,
            latency: latency,
            timestamps: PingSession.Timestamps.user.rawValue,
            duration: duration,
            payloadSize: querySize
        )
    }
}
