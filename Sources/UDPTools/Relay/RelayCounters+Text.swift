import UDPPatterns

// What `udp relay` prints: each direction's faults when it starts, its counters every second and at exit.

extension Impairment: CustomStringConvertible {
    /// `loss 20%, delay 40 ± 10 ms`, or `none`.
    public var description: String {
        if isTransparent { return "none" }
        var parts: [String] = []
        for (name, probability) in [("loss", loss), ("duplicate", duplicate), ("reorder", reorder)]
        where probability > 0 {
            parts.append("\(name) \(NumberFormat.percent(probability * 100))%")
        }
        if delay > .zero || jitter > .zero {
            let milliseconds = { (duration: Duration) in
                NumberFormat.trimmed(Double(MonotonicClock.nanoseconds(duration)) / 1e6, maximumDecimals: 3)
            }
            parts.append("delay \(milliseconds(delay))" + (jitter > .zero ? " ± \(milliseconds(jitter))" : "") + " ms")
        }
        if rate > 0 { parts.append("rate \(NumberFormat.trimmed(rate, maximumDecimals: 1))/s") }
        return parts.joined(separator: ", ")
    }
}

extension RelayEngine.DirectionCounters: CustomStringConvertible {
    /// The counters of one direction, in the order `udp relay --help` explains them.
    public var description: String {
        "received \(received), forwarded \(forwarded), dropped \(dropped), duplicated \(duplicated), "
            + "reordered \(reordered), delayed \(delayed), over rate \(rateDropped), queue full \(queueFull), "
            + "send errors \(failed), no upstream socket \(unmapped), in flight \(inFlight), unreachable \(unreachable)"
    }
}

extension RelayEngine.Counters {
    /// The three lines `udp relay` prints at exit and every second with --stats.
    public var lines: [String] {
        [
            "client->server: \(up)",
            "server->client: \(down)",
            "clients: \(activeClients) active, \(expiredClients) expired, \(evictedClients) evicted",
        ]
    }
}
