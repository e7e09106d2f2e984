import ArgumentParser
import UDP
import UDPPatterns
import UDPTools

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure round trips to an echo server with a probe every interval, as ping(8) does.",
        discussion: """
            Sends a probe of --size bytes to ADDR every --interval seconds and prints a line for each reply:

              64 bytes from 127.0.0.1:9999: seq=3 time=0.071 ms

            with the reply's length. Any echo server will do: an RFC 862 echo (`udp echo`), the tutorial's \
            `ack: ` server, or one that adds bytes before or after the request, as each probe carries a \
            random id of this run and its sequence number, and is found wherever the reply holds it. A reply \
            without one is ignored (--verbose shows it). A probe with no reply within --timeout seconds is \
            lost; a reply after that is shown `(late)` and still counts as lost; a second reply to one probe \
            is shown `(DUP!)` and counted apart.

              udp ping 127.0.0.1:9999
              udp ping --count 100 --interval 0.01 --json '[::1]:9999'

            After --count probes (0, the default, keeps going) and their replies or timeouts, or on SIGINT or \
            SIGTERM, it prints the statistics:

              --- 127.0.0.1:9999 udp ping statistics ---
              10 packets transmitted, 9 received, 10% packet loss, time 9004ms
              rtt min/avg/max/mdev = 0.041/0.063/0.101/0.020 ms (kernel timestamps)
              rtt p50/p90/p99/p99.9 = 0.060/0.090/0.101/0.101 ms
              user rtt min/avg/max/mdev = 0.058/0.081/0.120/0.021 ms (this process's clock, for comparison)

            Round trips are by the kernel's own stamps (--timestamps kernel, the default where the kernel \
            gives them): when the probe left the stack and when its reply arrived in it, so the figure leaves \
            out how long this process took to be scheduled. The summary shows this process's own figure beside \
            it (`user rtt`); --timestamps user makes that the main one. Both stamps are wall-clock times: a \
            sample spoiled by a clock step is dropped and counted (`clock steps`), never shown. The kernel starts \
            stamping arrivals a moment after the first socket on the machine asks, so a first reply may come \
            unstamped: its line says `(user clock)`, and it stays out of the kernel's figures.

            Duplicates, reordered replies (a sequence number below one already received), late and foreign \
            replies, ICMP errors and other errors appear in the second line when not zero. --json adds one \
            JSON object as the last line. The socket is connected, so only ADDR's replies count.

            An ICMP error for a probe prints a line naming who sent it, as ping(8)'s do, and the probes go on:

              From 198.18.2.2: port unreachable          (nothing listens on ADDR's port)
              From 198.18.1.1: network unreachable       (a router has no route to ADDR)
              From 198.18.1.1: time exceeded             (--ttl ran out at that router)
              From 198.18.1.1: fragmentation needed (mtu 1400)   (--size too large for a link on the way)

            Exit status, as ping(8)'s: 0 when at least one reply came, 1 when none did.
            """
    )

    @OptionGroup var destination: DestinationOptions
    @OptionGroup var key: KeyOptions

    @Option(name: [.customShort("c"), .long], help: "Probes to send; 0 sends until Ctrl-C.")
    var count: Int = 0

    @Option(name: [.customShort("i"), .long], help: "Seconds between probes; fractions allowed, at least 0.001.")
    var interval: Double = 1

    @Option(
        name: [.customShort("s"), .long],
        help: "Payload bytes in each probe, \(Probe.headerSize)-65507 (a probe's header takes \(Probe.headerSize))."
    )
    var size: Int = 64

    @Option(name: [.customShort("W"), .long], help: "Seconds to wait for a probe's reply before counting it lost.")
    var timeout: Double = 2

    @Option(help: "Hop limit (IPv4 TTL) of each probe, 1-255: a router where it runs out answers `time exceeded`.")
    var ttl: Int?

    @Option(
        help: ArgumentHelp(
            "Clock for round trips: kernel (the kernel's send and receive stamps, no scheduling delay) or user.",
            valueName: "kernel|user"
        )
    )
    var timestamps: PingSession.Timestamps = .kernel

    @Flag(help: "Print the statistics as one JSON object on the last line, too.")
    var json = false

    @Flag(help: "Print lost probes and ignored replies on stderr.")
    var verbose = false

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 (until Ctrl-C) or more, not \(count)") }
        try OptionChecks.interval(interval, minimum: 0.001)
        try OptionChecks.probeSize(size)
        if let ttl, !(1...255).contains(ttl) { throw ValidationError("--ttl must be 1-255, not \(ttl)") }
        try OptionChecks.timeout(timeout)
    }

    func run() throws {
        let target = try destination.resolve()
        let socket = try UDPSocket(family: target.family)
        try socket.connect(to: target)
        if let ttl { try socket.setUnicastHops(ttl) }
        let sealing = try key.load()
        let stop = try StopSignal.catchingInterrupts()
        let shown = destination.address == target.description ? "" : " (\(target))"
        Console.line("PING \(destination.address)\(shown): \(size) data bytes")
        let unavailable = PingSession.prepare(socket, timestamps: timestamps)
        var session = PingSession(
            target: target,
            count: count,
            interval: .nanoseconds(Int64(MonotonicClock.nanoseconds(seconds: interval))),
            size: size,
            timeout: .nanoseconds(Int64(MonotonicClock.nanoseconds(seconds: timeout))),
            timestamps: unavailable == nil ? timestamps : .user
        )
        sealing?.seal(&session)
        let timeoutText = NumberFormat.trimmed(timeout, maximumDecimals: 3)
        let requested = timestamps
        // Every send error goes to the session, which goes on after those ping(8) goes on after (`ENOBUFS` too).
        var driver = MachineDriver(stop: stop)
        driver.reportsEverySendError = true
        let ending = try driver.run(&session, on: socket) { event in
            let line = event.text(target: target, requested: requested, timeout: timeoutText)
            if !event.isDetail { Console.line(line) } else if verbose { Console.error(line) }
        }
        if ending != .finished { session.stop(at: .now()) }
        if let error = session.error { throw error }
        let summary = session.summary
        let note = unavailable.map {
            "kernel timestamps unavailable (\($0.reason)): round trips by the user-space clock"
        }
        summary.statisticsLines(of: destination.address, tool: "ping", note: note).forEach(Console.line)
        if json {
            var object = JSONObject()
            object.add("target", target.description)
            object.add("size", size)
            summary.addFields(to: &object)
            Console.line(object.text)
        }
        if summary.counts.received == 0 { throw ExitCode.failure }
    }
}

extension PingSession.Timestamps: ExpressibleByArgument {}
