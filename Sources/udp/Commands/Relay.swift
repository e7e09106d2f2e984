import ArgumentParser
import UDP
import UDPTools

struct Relay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forward datagrams both ways, losing, duplicating, reordering and delaying them on purpose.",
        discussion: """
            A user-space netem: clients send to --listen, the relay forwards to --to from a socket of each \
            client's own (so replies find their way back, as through a NAT), and forwards the replies. Idle \
            mappings expire after --idle seconds; at most --max-clients are kept, the least recently active \
            evicted first. Each mapping holds a descriptor, so the relay raises its soft descriptor limit \
            (ulimit -n) as far as the hard limit allows, and keeps fewer mappings (saying so) when that is not \
            enough. A datagram from a new client whose socket cannot be made is dropped and counted (no \
            upstream socket); the relay goes on.

            Faults apply per direction: --loss, --duplicate, --reorder, --delay, --jitter and --rate set both \
            directions, and the -up (client to server) and -down (server to client) forms one of them. \
            Probabilities are written 0.2 or 20%; delays in milliseconds. --seed makes a run reproducible: \
            the same datagrams meet the same fate. Each direction draws from a generator of its own, derived \
            from the seed, so the fate of the n-th datagram one way does not depend on how many went the other \
            way meanwhile. A reordered datagram is held back until the next one in its direction has gone (at \
            most 50 ms). --rate gives each datagram a departure slot as it arrives; one that would wait more \
            than a second for its slot is dropped (over rate), so the queue holds one second's worth at most.

              udp relay --listen 127.0.0.1:0 --to 127.0.0.1:9999 --loss 20% --seed 7
              udp relay --listen 127.0.0.1:7000 --to '[::1]:9999' --delay 40 --jitter 10 --reorder-up 0.1 --stats

            The first line on stdout is `listening on udp/PORT`. On SIGINT or SIGTERM (and every second with \
            --stats) the counters of each direction go to stderr: received, forwarded, dropped, duplicated, \
            reordered, delayed, over rate, queue full (past the delay queue's 100 000 datagrams or 64 MiB), send \
            errors, no upstream socket, in flight, unreachable (ICMP errors from the server's side). They add up: \
            received - dropped + duplicated = forwarded + over rate + queue full + send errors + no upstream \
            socket + in flight.
            """
    )

    @Option(help: ArgumentHelp("Where clients send: HOST:PORT (port 0 lets the kernel pick).", valueName: "address"))
    var listen: String

    @Option(help: ArgumentHelp("The server to forward to: HOST:PORT.", valueName: "address"))
    var to: String

    @Option(help: "Probability of losing a datagram, both ways.") var loss: Probability?
    @Option(help: "… client to server only.") var lossUp: Probability?
    @Option(help: "… server to client only.") var lossDown: Probability?
    @Option(help: "Probability of sending a datagram twice, both ways.") var duplicate: Probability?
    @Option(help: "… client to server only.") var duplicateUp: Probability?
    @Option(help: "… server to client only.") var duplicateDown: Probability?
    @Option(help: "Probability of holding a datagram back behind the next one, both ways.") var reorder: Probability?
    @Option(help: "… client to server only.") var reorderUp: Probability?
    @Option(help: "… server to client only.") var reorderDown: Probability?
    @Option(help: "Milliseconds added to every datagram, both ways.") var delay: Double?
    @Option(help: "… client to server only.") var delayUp: Double?
    @Option(help: "… server to client only.") var delayDown: Double?
    @Option(help: "Milliseconds by which the delay varies either way, both ways.") var jitter: Double?
    @Option(help: "… client to server only.") var jitterUp: Double?
    @Option(help: "… server to client only.") var jitterDown: Double?
    @Option(help: "Datagrams per second at most, both ways (0: no limit).") var rate: Double?
    @Option(help: "… client to server only.") var rateUp: Double?
    @Option(help: "… server to client only.") var rateDown: Double?

    @Option(help: "Seed for the random choices; the same seed repeats a run. Default: a random seed, printed.")
    var seed: UInt64?

    @Flag(help: "Print the counters every second, on stderr.")
    var stats = false

    @Option(help: "Seconds after which a client's mapping with no traffic is dropped.")
    var idle: Double = 60

    @Option(
        help:
            "The most client mappings kept at once; the least recently active goes first. Capped by the descriptor limit (ulimit -n), less \(DescriptorLimit.reserved)."
    )
    var maxClients: Int = 1024

    func validate() throws {
        for (name, value) in [
            ("--delay", delay), ("--delay-up", delayUp), ("--delay-down", delayDown), ("--jitter", jitter),
            ("--jitter-up", jitterUp), ("--jitter-down", jitterDown),
        ] {
            if let value, !(0...60_000).contains(value) {
                throw ValidationError("\(name) \(value) is out of range 0-60000 milliseconds")
            }
        }
        for (name, value) in [("--rate", rate), ("--rate-up", rateUp), ("--rate-down", rateDown)] {
            if let value, !(0...10_000_000).contains(value) {
                throw ValidationError("\(name) \(value) is out of range 0-10000000 datagrams per second")
            }
        }
        guard idle > 0, idle <= 86_400 else { throw ValidationError("--idle must be between 0 and 86400 seconds") }
        guard (1...65_536).contains(maxClients) else { throw ValidationError("--max-clients must be 1-65536") }
    }

    /// The faults of one direction: its own flag if given, else the both-ways flag.
    func impairment(up: Bool) -> Impairment {
        func pick<T>(_ both: T?, _ one: T?) -> T? { one ?? both }
        let milliseconds = 1_000_000.0
        var impairment = Impairment()
        impairment.loss = pick(loss, up ? lossUp : lossDown)?.value ?? 0
        impairment.duplicate = pick(duplicate, up ? duplicateUp : duplicateDown)?.value ?? 0
        impairment.reorder = pick(reorder, up ? reorderUp : reorderDown)?.value ?? 0
        impairment.delay = .nanoseconds(Int64((pick(delay, up ? delayUp : delayDown) ?? 0) * milliseconds))
        impairment.jitter = .nanoseconds(Int64((pick(jitter, up ? jitterUp : jitterDown) ?? 0) * milliseconds))
        impairment.rate = pick(rate, up ? rateUp : rateDown) ?? 0
        return impairment
    }

    func run() throws {
        let listenAddress = try SocketAddress(resolving: listen)
        let target = try SocketAddress(resolving: to)
        let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let (clientLimit, softLimit) = DescriptorLimit.raiseSoftLimit(forMappings: maxClients)
        if let softLimit, clientLimit < maxClients {
            Console.error("relay: at most \(clientLimit) clients: the descriptor limit is \(softLimit) (ulimit -n)")
        }
        var engine = try RelayEngine(
            listen: listenAddress,
            target: target,
            up: impairment(up: true),
            down: impairment(up: false),
            seed: seed,
            idleTimeout: MonotonicClock.duration(seconds: idle),
            maxClients: clientLimit
        )
        let stop = try StopSignal.catchingInterrupts()
        Console.line("listening on udp/\(try engine.port)")
        Console.error(
            "relay \(listenAddress) -> \(target), seed \(seed); up: \(engine.up); down: \(engine.down)"
        )
        try engine.run(until: stop, reportInterval: stats ? .seconds(1) : nil) { counters in
            for line in counters.lines { Console.error(line) }
        }
        for line in engine.counters.lines { Console.error(line) }
    }
}
