import UDP
import UDPPatterns

// What `udp mtu` prints: a line per probe, and the answer as JSON.

extension PathMTUProber.Event: CustomStringConvertible {
    /// `1472 bytes: too big, ptb from 198.18.1.1 (ip mtu 1400), 0.210 ms`, `1372 bytes: echoed, 0.395 ms`, or
    /// `ignored: …, quoting no probe in flight`.
    public var description: String {
        guard case .probe(let size, let attempt, let outcome, let roundTrip) = self else {
            guard case .ignored(let error) = self else { return "" }
            return "ignored: \(error), quoting no probe in flight"
        }
        var line = "\(size) bytes: "
        switch outcome {
        case .echoed: line += "echoed"
        case .tooBig(let mtu, let from?): line += "too big, ptb from \(from)" + (mtu.map { " (ip mtu \($0))" } ?? "")
        case .tooBig(let mtu, nil): line += "too big for the local link" + (mtu.map { " (ip mtu \($0))" } ?? "")
        case .lost: line += "lost (try \(attempt) of \(PathMTUSearch.maximumTries))"
        }
        if let roundTrip, roundTrip > .zero { line += ", \(NumberFormat.roundTrip(roundTrip)) ms" }
        return line
    }
}

extension PathMTUSearch.Result {
    /// `udp mtu --json`: `target`, `family`, `udp_payload`, `ip_mtu`, `probes`, `ptb_from`, `black_hole`.
    package func json(target: SocketAddress) -> String {
        var object = JSONObject()
        object.add("target", target.description)
        object.add("family", family.lowercasedName)
        object.add("udp_payload", udpPayload)
        object.add("ip_mtu", ipMTU)
        object.add("probes", probes)
        object.add("ptb_from", ptbFrom.map { "\($0)" })
        object.add("black_hole", blackHole)
        return object.text
    }
}
