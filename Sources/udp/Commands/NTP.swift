import ArgumentParser
import UDP
import UDPNTP
import UDPTools

struct NTP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntp",
        abstract: "Ask an NTP server for the time (SNTP) and measure the offset of this clock, as sntp does.",
        discussion: """
            Sends --count requests (4), one every --interval seconds (0.5), each waiting --timeout seconds (1) \
            for its reply, and prints each sample's offset (the server's clock minus this one's) and round-trip \
            delay, then the sample with the least delay, as NTP's clock filter chooses:

              udp ntp 198.18.2.2
              sample 1: offset +0.000042 s, delay 0.000310 s (kernel timestamps)
              ...
              offset +0.000042 s, delay 0.000310 s, stratum 10, refid 127.127.1.1, leap none (4 samples, \
            kernel timestamps)

            It never sets the clock. Each request carries a random transmit timestamp, which a reply must echo: \
            a reply from another address, with another origin, not from a server, from an unsynchronised server \
            (leap 3, stratum 16) or claiming a root distance over 16 s is ignored and counted (--verbose shows \
            each). A kiss-o'-death (stratum 0) is reported by its code: RATE doubles the interval, DENY and RSTR \
            stop at once, as RFC 4330 asks. The local times of each sample are the kernel's stamps where it \
            gives them (--timestamps kernel), else this process's clock; the line says which.

              udp ntp '[fd75:6470:2::2]:123' --count 8 --json

            --json prints one object last: offset_s, delay_s, stratum, refid, leap, root_delay_s, \
            root_dispersion_s, samples, timestamps, server, ignored and ignored_reasons. Exit status: 0 when a \
            valid reply came, 1 when none did, with the reason (no reply, the kiss code, an ICMP error).
            """
    )

    @Argument(
        help: ArgumentHelp("The server: HOST, HOST:PORT or [IPV6]:PORT (port 123 by default).", valueName: "server")
    )
    var server: String

    @Flag(name: .customShort("4"), help: "Resolve the host name to IPv4 only.")
    var ipv4 = false

    @Flag(name: .customShort("6"), help: "Resolve the host name to IPv6 only.")
    var ipv6 = false

    @Option(name: [.customShort("c"), .long], help: "Requests to send, 1-100.")
    var count = 4

    @Option(name: [.customShort("i"), .long], help: "Seconds between requests, at least 0.01.")
    var interval = 0.5

    @Option(name: [.customShort("W"), .long], help: "Seconds to wait for each reply.")
    var timeout = 1.0

    @Option(
        help: ArgumentHelp(
            "Clock for the local timestamps: kernel (when the request left and the reply arrived) or user.",
            valueName: "kernel|user"
        )
    )
    var timestamps: SNTPProbe.Timestamps = .kernel

    @Flag(help: "Print the result as one JSON object on the last line, too.")
    var json = false

    @Flag(help: "Print ignored datagrams on stderr.")
    var verbose = false

    func validate() throws {
        guard !(ipv4 && ipv6) else { throw ValidationError("-4 and -6 exclude each other") }
        guard (1...100).contains(count) else { throw ValidationError("--count must be 1-100, not \(count)") }
        guard interval >= 0.01, interval <= 3_600 else {
            throw ValidationError("--interval must be between 0.01 and 3600 seconds (got \(interval))")
        }
        guard timeout > 0, timeout <= 60 else {
            throw ValidationError("--timeout must be a number of seconds above 0, at most 60 (got \(timeout))")
        }
    }

    /// `HOST` or a bare IPv6 address with the NTP port added; `HOST:PORT` and `[IPV6]:PORT` as they are.
    static func withDefaultPort(_ text: String) -> String {
        if text.hasPrefix("[") { return text.contains("]:") ? text : text + ":123" }
        switch text.filter({ $0 == ":" }).count {
        case 0: return text + ":123"
        case 1: return text
        default: return "[\(text)]:123"
        }
    }

    func run() throws {
        let address = try SocketAddress(
            resolving: Self.withDefaultPort(server),
            family: ipv4 ? .inet : ipv6 ? .inet6 : nil
        )
        guard address.port != 0 else { throw ValidationError("port 0 is not an NTP server's port") }
        let socket = try UDPSocket.sntpClient(for: address)
        let stop = try StopSignal.catchingInterrupts()
        let timestampsUnavailable = timestamps == .kernel ? socket.enableKernelStamps() : nil
        var probe = SNTPProbe(
            server: address,
            count: count,
            interval: .nanoseconds(Int64(MonotonicClock.nanoseconds(seconds: interval))),
            timeout: .nanoseconds(Int64(MonotonicClock.nanoseconds(seconds: timeout))),
            kernelStamps: timestamps == .kernel && timestampsUnavailable == nil
        )
        Console.line("NTP \(address)")
        // A reply is 48 bytes and a few extension fields: a longer datagram is judged by its first 2 KB.
        try MachineDriver(stop: stop, receiveBufferSize: 2_048).run(&probe, on: socket) { event in
            Self.show(event, verbose: verbose)
        }
        if let error = probe.sendError { throw error }
        if let reason = timestampsUnavailable {
            Console.line("kernel timestamps unavailable (\(reason)): local times by this process's clock")
        }
        let ignored = Self.ignored(probe.ignoredByReason, server: address)
        if !ignored.isEmpty { Console.line(Self.ignoredLine(ignored)) }
        guard let best = probe.best else {
            if json { Console.line(Self.json(best: nil, probe: probe, server: address)) }
            throw RuntimeFailure("no valid reply from \(address): \(probe.lastFailure.map(Self.words) ?? "stopped")")
        }
        Console.line(Self.summary(best, samples: probe.samples.count))
        if json { Console.line(Self.json(best: best, probe: probe, server: address)) }
    }

    /// `failure` in words: `no reply within 1.0 s`, `kiss-o'-death DENY`, `port unreachable (from 198.18.2.2)`.
    static func words(_ failure: SNTPProbe.Failure) -> String {
        switch failure {
        case .noReply(let timeout): "no reply within \(Double(MonotonicClock.nanoseconds(timeout)) / 1e9) s"
        case .kissOfDeath(let code): "kiss-o'-death \(code)"
        case .deliveryError(let error): "\(error.kind)" + (error.offender.map { " (from \($0))" } ?? "")
        case .unsent(let tries): "the request could not be sent past \(tries) ICMP errors"
        }
    }

    /// The ignored counts keyed by their words, for printing: `not from 192.0.2.1:123`, `wrong origin timestamp`.
    static func ignored(_ counts: SNTPIgnoredCounts, server: SocketAddress) -> [String: Int] {
        var text: [String: Int] = [:]
        for (reason, count) in counts.byReason {
            text[reason == .wrongSource ? "not from \(server)" : reason.description] = count
        }
        return text
    }

    static func signed(_ seconds: Double) -> String { (seconds < 0 ? "" : "+") + NumberFormat.fixed(seconds, 6) }

    static func show(_ event: SNTPProbe.Event, verbose: Bool) {
        switch event {
        case .sample(let index, let sample, let clock):
            Console.line(
                "sample \(index + 1): offset \(signed(sample.offset)) s, delay \(NumberFormat.fixed(sample.delay, 6)) s"
                    + " (\(clock == .kernel ? "kernel timestamps" : "user clock"))"
            )
        case .timeout(let index):
            Console.line("sample \(index + 1): no valid reply in time")
        case .kissOfDeath(let index, let code, let next):
            let then =
                next.map {
                    let seconds = Double(MonotonicClock.nanoseconds($0)) / 1e9
                    return "backing off: one request every \(NumberFormat.trimmed(seconds, maximumDecimals: 3)) s"
                } ?? "stopping"
            Console.line("sample \(index + 1): kiss-o'-death \(NetworkText(code.description)): \(then)")
        case .deliveryError(let index, let error):
            Console.line("sample \(index + 1): \(error)")
        case .ignored(let sender, let reason):
            if verbose { Console.error("ignored a datagram from \(sender): \(reason)") }
        }
    }

    static func ignoredLine(_ ignored: [String: Int]) -> String {
        let total = ignored.values.reduce(0, +)
        let reasons = ignored.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return "ignored \(total) \(total == 1 ? "reply" : "replies"): \(reasons)"
    }

    static func summary(_ best: (sample: NTPSample, clock: SNTPProbe.Timestamps), samples: Int) -> String {
        let reply = best.sample.reply
        return "offset \(signed(best.sample.offset)) s, delay \(NumberFormat.fixed(best.sample.delay, 6)) s, "
            + "stratum \(reply.stratum), refid \(NetworkText(reply.referenceIDText)), leap \(reply.leap) "
            + "(\(samples) \(samples == 1 ? "sample" : "samples"), "
            + "\(best.clock == .kernel ? "kernel timestamps" : "user clock"))"
    }

    static func json(
        best: (sample: NTPSample, clock: SNTPProbe.Timestamps)?,
        probe: SNTPProbe,
        server: SocketAddress
    ) -> String {
        let ignoredText = Self.ignored(probe.ignoredByReason, server: server)
        var object = JSONObject()
        object.add("server", "\(server)")
        object.add("offset_s", best?.sample.offset, decimals: 9)
        object.add("delay_s", best?.sample.delay, decimals: 9)
        if let reply = best?.sample.reply {
            object.add("stratum", Int(reply.stratum))
            object.add("refid", NetworkText(reply.referenceIDText))
            object.add("leap", "\(reply.leap)")
        } else {
            object.addRaw("stratum", "null")
            object.add("refid", nil as String?)
            object.add("leap", nil as String?)
        }
        object.add("root_delay_s", best?.sample.reply.rootDelaySeconds, decimals: 6)
        object.add("root_dispersion_s", best?.sample.reply.rootDispersionSeconds, decimals: 6)
        object.add("samples", probe.samples.count)
        object.add("timestamps", best.map { $0.clock.rawValue })
        object.add("ignored", ignoredText.values.reduce(0, +))
        let reasons = ignoredText.sorted { $0.key < $1.key }.map { JSONObject.quoted($0.key) + ": \($0.value)" }
        object.addRaw("ignored_reasons", "{" + reasons.joined(separator: ", ") + "}")
        object.add("failure", best == nil ? probe.lastFailure.map(words) : nil)
        return object.text
    }
}

extension SNTPProbe.Timestamps: ExpressibleByArgument {}
