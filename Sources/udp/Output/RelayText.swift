import UDPTools

extension Impairment {
    /// `loss 20%, delay 40 ± 10 ms`, or `none`.
    var text: String {
        if isTransparent { return "none" }
        var parts: [String] = []
        if loss > 0 { parts.append("loss \(Probability(loss))") }
        if duplicate > 0 { parts.append("duplicate \(Probability(duplicate))") }
        if reorder > 0 { parts.append("reorder \(Probability(reorder))") }
        if delay > 0 || jitter > 0 {
            let milliseconds = { (nanoseconds: UInt64) in
                NumberFormat.trimmed(Double(nanoseconds) / 1e6, maximumDecimals: 3)
            }
            parts.append("delay \(milliseconds(delay))" + (jitter > 0 ? " ± \(milliseconds(jitter))" : "") + " ms")
        }
        if rate > 0 { parts.append("rate \(NumberFormat.trimmed(rate, maximumDecimals: 1))/s") }
        return parts.joined(separator: ", ")
    }
}

extension RelayEngine.DirectionCounters {
    /// The counters of one direction, in the order `udp relay --help` explains them.
    var text: String {
        "received \(received), forwarded \(forwarded), dropped \(dropped), duplicated \(duplicated), "
            + "reordered \(reordered), delayed \(delayed), over rate \(rateDropped), queue full \(queueFull), "
            + "send errors \(failed), no upstream socket \(unmapped), in flight \(inFlight), unreachable \(unreachable)"
    }
}

extension RelayEngine.Counters {
    /// The three lines `udp relay` prints at exit and every second with --stats.
    var lines: [String] {
        [
            "client->server: \(up.text)",
            "server->client: \(down.text)",
            "clients: \(activeClients) active, \(expiredClients) expired, \(evictedClients) evicted",
        ]
    }
}
