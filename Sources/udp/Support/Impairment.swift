import ArgumentParser

/// A probability written `0.2` or `20%`, checked to lie in 0…1.
struct Probability: ExpressibleByArgument, CustomStringConvertible {
    var value: Double

    init(_ value: Double) { self.value = value }

    init?(argument: String) {
        let percent = argument.hasSuffix("%")
        guard let number = Double(percent ? String(argument.dropLast()) : argument), number.isFinite else {
            return nil
        }
        let value = percent ? number / 100 : number
        guard (0...1).contains(value) else { return nil }
        self.value = value
    }

    var description: String { NumberFormat.percent(value * 100) + "%" }
    static var defaultCompletionKind: CompletionKind { .default }
}

/// What the relay does to the datagrams of one direction: the faults of netem, in user space.
struct Impairment: CustomStringConvertible {
    /// Probability of dropping a datagram.
    var loss = 0.0
    /// Probability of sending a datagram twice.
    var duplicate = 0.0
    /// Probability of holding a datagram back until the next one in this direction has gone (or
    /// ``reorderHold`` has passed).
    var reorder = 0.0
    /// Delay added to every datagram, nanoseconds.
    var delay: UInt64 = 0
    /// Delay varies uniformly by up to this much either way, nanoseconds (which reorders, as netem's does).
    var jitter: UInt64 = 0
    /// Datagrams per second at most, 0 for no limit; the excess waits up to a second for its slot (see
    /// ``RateShaper``), then is dropped.
    var rate = 0.0

    /// How long a held-back datagram waits for a successor before it goes anyway.
    static let reorderHold: UInt64 = 50_000_000

    var isTransparent: Bool { loss == 0 && duplicate == 0 && reorder == 0 && delay == 0 && jitter == 0 && rate == 0 }

    var description: String {
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

    /// The send times for one datagram arriving at `now`: empty when it is lost, two when duplicated.
    /// Reordering and rate limiting are the relay's, since they depend on the other datagrams.
    func departures(now: UInt64, using random: inout SeededRandom) -> (times: [UInt64], held: Bool) {
        if random.chance(loss) { return ([], false) }
        let copies = random.chance(duplicate) ? 2 : 1
        var times: [UInt64] = []
        for _ in 0..<copies {
            var offset = Int64(delay)
            if jitter > 0 { offset += Int64.random(in: -Int64(jitter)...Int64(jitter), using: &random) }
            times.append(now + UInt64(max(0, offset)))
        }
        return (times, random.chance(reorder))
    }
}

/// Counters of one direction, printed by `--stats` and at exit.
///
/// They add up: every datagram received is lost (`dropped`) or goes on as one copy, or two when
/// `duplicated`, and every copy is `forwarded`, refused `over rate`, met a `send error`, found `no upstream
/// socket`, or is still `in flight`. So received − dropped + duplicated = forwarded + over rate + send errors
/// + no upstream socket + in flight.
struct DirectionCounters {
    var received = 0
    var forwarded = 0
    var dropped = 0
    var duplicated = 0
    var reordered = 0
    var delayed = 0
    var rateDropped = 0
    var failed = 0
    /// Copies with no socket to leave by: the client's could not be made (descriptors ran out), or its
    /// mapping expired or was evicted while the copy waited.
    var unmapped = 0
    /// Copies waiting for their time (delay, rate slot, or held back to reorder).
    var inFlight = 0
    /// ICMP errors (port unreachable, most often) reported on the upstream sockets: not datagrams, so
    /// outside the sum above.
    var unreachable = 0

    var summary: String {
        "received \(received), forwarded \(forwarded), dropped \(dropped), duplicated \(duplicated), "
            + "reordered \(reordered), delayed \(delayed), over rate \(rateDropped), send errors \(failed), "
            + "no upstream socket \(unmapped), in flight \(inFlight), unreachable \(unreachable)"
    }
}
