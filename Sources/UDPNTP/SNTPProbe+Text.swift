import UDP
import UDPPatterns

// What `udp ntp` prints: a line per event, the ignored datagrams, the chosen sample, and the JSON object.

extension SNTPProbe.Failure: CustomStringConvertible {
    /// The failure in words: `no reply within 1.0 s`, `kiss-o'-death DENY`, `port unreachable (from 198.18.2.2)`.
    public var description: String {
        switch self {
        case .noReply(let timeout): "no reply within \(seconds(timeout)) s"
        case .kissOfDeath(let code): "kiss-o'-death \(code)"
        case .deliveryError(let error): "\(error.kind)" + (error.offender.map { " (from \($0))" } ?? "")
        case .unsent(let tries): "the request could not be sent past \(tries) ICMP errors"
        }
    }
}

extension SNTPProbe.Event {
    /// `sample 1: offset +0.000042 s, delay 0.000310 s (kernel timestamps)`, `sample 2: no valid reply in time`,
    /// `ignored a datagram from …: …`.
    package var text: String {
        switch self {
        case .sample(let index, let sample, let clock):
            "sample \(index + 1): offset \(signed(sample.offset)) s, delay \(fixed(sample.delay)) s"
                + " (\(clock == .kernel ? "kernel timestamps" : "user clock"))"
        case .timeout(let index):
            "sample \(index + 1): no valid reply in time"
        case .kissOfDeath(let index, let code, let next):
            "sample \(index + 1): kiss-o'-death \(NetworkText(code.description)): "
                + (next.map {
                    "backing off: one request every \(NumberFormat.trimmed(seconds($0), maximumDecimals: 3)) s"
                } ?? "stopping")
        case .deliveryError(let index, let error):
            "sample \(index + 1): \(error)"
        case .ignored(let sender, let reason):
            "ignored a datagram from \(sender): \(reason)"
        }
    }
}

extension SNTPProbe {
    /// The ignored counts keyed by their words, `not from 192.0.2.1:123` and `wrong origin timestamp`.
    private var ignoredText: [String: Int] {
        var text: [String: Int] = [:]
        for (reason, count) in ignoredByReason.byReason {
            text[reason == .wrongSource ? "not from \(server)" : reason.description] = count
        }
        return text
    }

    /// `ignored 3 replies: 1 not from 192.0.2.1:123, 2 wrong origin timestamp`; nil when none was ignored.
    package var ignoredLine: String? {
        let ignored = ignoredText
        guard !ignored.isEmpty else { return nil }
        let total = ignored.values.reduce(0, +)
        let reasons = ignored.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return "ignored \(total) \(total == 1 ? "reply" : "replies"): \(reasons)"
    }

    /// `offset +0.000042 s, delay 0.000310 s, stratum 10, refid 127.127.1.1, leap none (4 samples, kernel
    /// timestamps)`: the sample with the least delay; nil without one.
    package var summaryLine: String? {
        guard let best else { return nil }
        let reply = best.sample.reply
        return "offset \(signed(best.sample.offset)) s, delay \(fixed(best.sample.delay)) s, "
            + "stratum \(reply.stratum), refid \(NetworkText(reply.referenceIDText)), leap \(reply.leap) "
            + "(\(samples.count) \(samples.count == 1 ? "sample" : "samples"), "
            + "\(best.clock == .kernel ? "kernel timestamps" : "user clock"))"
    }

    /// `udp ntp --json`: `server`, `offset_s`, `delay_s`, `stratum`, `refid`, `leap`, `root_delay_s`,
    /// `root_dispersion_s`, `samples`, `timestamps`, `ignored`, `ignored_reasons` and `failure`, null where no
    /// sample came.
    package var json: String {
        let best = best
        var object = JSONObject()
        object.add("server", "\(server)")
        object.add("offset_s", best.map { $0.sample.offset / .seconds(1) }, decimals: 9)
        object.add("delay_s", best.map { $0.sample.delay / .seconds(1) }, decimals: 9)
        if let reply = best?.sample.reply {
            object.add("stratum", Int(reply.stratum))
            object.add("refid", NetworkText(reply.referenceIDText))
            object.add("leap", "\(reply.leap)")
        } else {
            object.addRaw("stratum", "null")
            object.add("refid", nil as String?)
            object.add("leap", nil as String?)
        }
        object.add("root_delay_s", best.map { $0.sample.reply.rootDelayDuration / .seconds(1) }, decimals: 6)
        object.add("root_dispersion_s", best.map { $0.sample.reply.rootDispersionDuration / .seconds(1) }, decimals: 6)
        object.add("samples", samples.count)
        object.add("timestamps", best.map { $0.clock.rawValue })
        let ignored = ignoredText
        object.add("ignored", ignored.values.reduce(0, +))
        let reasons = ignored.sorted { $0.key < $1.key }.map { JSONObject.quoted($0.key) + ": \($0.value)" }
        object.addRaw("ignored_reasons", "{" + reasons.joined(separator: ", ") + "}")
        object.add("failure", best == nil ? lastFailure.map(\.description) : nil)
        return object.text
    }
}

/// `duration` in seconds, from whole nanoseconds: for the timeouts and intervals, which are whole nanoseconds.
private func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole * 1_000_000_000 + attoseconds / 1_000_000_000) / 1e9
}

/// Seconds with 6 decimals: `0.000310`. Not cut to whole nanoseconds first: a sample's figures come from NTP's
/// 2⁻³² s units, and are rounded once, as printed.
private func fixed(_ duration: Duration) -> String { NumberFormat.fixed(duration / .seconds(1), 6) }

/// An offset with its sign: `+0.000042`, `-0.001200`.
private func signed(_ duration: Duration) -> String { (duration < .zero ? "" : "+") + fixed(duration) }
