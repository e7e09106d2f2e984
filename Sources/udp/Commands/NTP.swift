import ArgumentParser
import UDP
import UDPNTP
import UDPPatterns
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

    @OptionGroup var resolution: ResolveFamilyOptions

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
        guard (1...100).contains(count) else { throw ValidationError("--count must be 1-100, not \(count)") }
        try OptionChecks.interval(interval, minimum: 0.01)
        try OptionChecks.timeout(timeout)
    }

    func run() throws {
        let address = try SocketAddress(resolving: server, defaultPort: 123, family: resolution.family)
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
            guard case .ignored = event else { return Console.line(event.text) }
            if verbose { Console.error(event.text) }
        }
        if let error = probe.sendError { throw error }
        if let reason = timestampsUnavailable {
            Console.line("kernel timestamps unavailable (\(reason)): local times by this process's clock")
        }
        if let line = probe.ignoredLine { Console.line(line) }
        guard let summary = probe.summaryLine else {
            if json { Console.line(probe.json) }
            throw RuntimeFailure("no valid reply from \(address): \(probe.lastFailure.map(\.description) ?? "stopped")")
        }
        Console.line(summary)
        if json { Console.line(probe.json) }
    }
}

extension SNTPProbe.Timestamps: ExpressibleByArgument {}
