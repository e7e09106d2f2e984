import ArgumentParser
import UDP
import UDPPatterns
import UDPTools

struct MTU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mtu",
        abstract: "Find the largest datagram that gets to an echo server and back (path MTU discovery).",
        discussion: """
            Sends probes of chosen sizes to ADDR, any echo server (`udp echo`, socat, the tutorial's server), \
            with the Don't Fragment bit set and the kernel's cached path MTU ignored, and prints a line for each:

              1472 bytes: too big, ptb from 198.18.1.1 (ip mtu 1400), 0.210 ms
              1372 bytes: echoed, 0.395 ms

            A size fits only when its echo comes back. A router's Packet Too Big is believed only when it \
            quotes the probe just sent, and the search jumps to the size it names; a forged or stale one is \
            ignored (--verbose shows it). A probe lost with no Packet Too Big is tried 3 times and then taken \
            as too big: a black hole, which the summary says. The last line puts the UDP payload and the IP \
            MTU side by side:

              udp payload 1372 bytes = ip mtu 1400 (ipv4), 3 probes, ptb from 198.18.1.1

              udp mtu 198.18.2.2:7
              udp mtu --json --timeout 0.5 '[fd75:6470:2::2]:7'

            --max defaults to the route's MTU as the kernel knows it (at least Ethernet's 1500), --min to the \
            size every host must accept: 548 bytes over IPv4 (576 − 28), 1232 over IPv6 (1280 − 48, IPv6's \
            floor). Exit status: 0 with an answer, 1 without one.
            """
    )

    @OptionGroup var destination: DestinationOptions

    @Option(help: "Smallest UDP payload to try, in bytes (default 548 over IPv4, 1232 over IPv6).")
    var min: Int?

    @Option(help: "Largest UDP payload to try, in bytes (default: the route's MTU less the headers).")
    var max: Int?

    @Option(name: [.customShort("W"), .long], help: "Seconds to wait for each probe's echo.")
    var timeout: Double = 1

    @Flag(help: "Print the answer as one JSON object on the last line, too.")
    var json = false

    @Flag(help: "Print errors that quoted no probe in flight (forged or stale) on stderr.")
    var verbose = false

    func validate() throws {
        try OptionChecks.timeout(timeout)
        for (name, value) in [("--min", min), ("--max", max)] {
            guard let value else { continue }
            guard (Probe.headerSize...65_527).contains(value) else {
                throw ValidationError("\(name) \(value) is out of range \(Probe.headerSize)-65527 bytes")
            }
        }
        if let min, let max, min > max { throw ValidationError("--min \(min) is above --max \(max)") }
    }

    func run() throws {
        let target = try destination.resolve()
        let family = target.unmapped.family
        let socket = try UDPSocket(family: target.family)
        try socket.connect(to: target)
        let (low, high) = PathMTUSearch.sizes(family: family, routeMTU: try? socket.pathMTU, minimum: min, maximum: max)
        guard low <= high else {
            throw RuntimeFailure("--min \(low) is above the largest size to try, \(high): lower --min or raise --max")
        }
        let stop = try StopSignal.catchingInterrupts()
        Console.line(
            "MTU \(destination.address): udp payload \(low)-\(high) bytes, \(NumberFormat.trimmed(timeout, maximumDecimals: 3)) s per probe"
        )
        try PathMTUProber.prepare(socket)
        var prober = PathMTUProber(destination: target, range: low...high, timeout: .seconds(timeout))
        try MachineDriver(stop: stop).run(&prober, on: socket) { event in
            guard case .ignored = event else { return Console.line(event.description) }
            if verbose { Console.error(event.description) }
        }
        if let error = prober.error {
            guard let event = error.deliveryError else { throw error }
            let from = event.offender.map { " from \($0)" } ?? ""
            throw RuntimeFailure("\(target): \(event.kind)\(from): udp mtu needs an echo server there")
        }
        let search = prober.search
        if let failure = search.failure { throw RuntimeFailure("\(failure)") }
        guard let result = search.result else { throw ExitCode.failure }  // stopped before an answer
        Console.line(result.description)
        if json { Console.line(result.json(target: target)) }
    }
}
