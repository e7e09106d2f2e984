import ArgumentParser
import UDP
import UDPPatterns
import UDPTools

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load an echo server with probes and measure its throughput, loss and latency.",
        discussion: """
            Keeps up to --window probes in flight to ADDR, an echo server (any kind `udp ping` accepts), for \
            --duration seconds, and times every reply. Probes go out and replies come in up to 64 per system \
            call (sendmmsg/recvmmsg), in buffers allocated once; by default a burst of probes goes out as one \
            UDP GSO train and trains of replies come in through GRO, which halves the client's cost per \
            datagram (--no-offload sends them one by one). A probe with no reply within --loss-timeout \
            seconds is lost and frees its place, so loss never stalls the run. --rate paces the probes \
            (datagrams per second in all, shared by the workers); 0 sends as fast as the window allows. \
            --workers N runs N sockets, each on its own thread with its own window. --key-file seals every \
            probe for a server started with the same key (`udp echo --key-file`), and counts replies that do \
            not open as foreign; sealing costs an allocation per probe, so it measures the sealed path, not \
            the kernel's limit.

              udp bench 127.0.0.1:9999
              udp bench --duration 10 --window 256 --workers 2 --json '[::1]:9999'
              udp bench --rate 10000 --histogram rtt.hgrm 127.0.0.1:9999

            On a terminal a status line is redrawn every second (replies per second, Mbit/s, loss, p99); into \
            a pipe nothing is printed until the summary: probes sent, received, lost, duplicates and \
            reordered; replies per second and Mbit/s of payload; round-trip percentiles from an HdrHistogram. \
            --histogram FILE writes the full distribution in HdrHistogram's .hgrm text format, in \
            microseconds. --json adds one JSON object as the last line, in which received + lost = sent.

            Exit status: 0, or 1 when no reply came at all.
            """
    )

    @OptionGroup var destination: DestinationOptions
    @OptionGroup var key: KeyOptions

    @Option(help: "Seconds to send for.")
    var duration: Double = 5

    @Option(help: "Payload bytes in each probe, \(Probe.headerSize)-65507.")
    var size: Int = 64

    @Option(help: "Probes in flight at most, per worker.")
    var window: Int = 64

    @Option(help: "Probes per second in all; 0 sends as fast as the window allows.")
    var rate: Double = 0

    @Option(help: "Sockets, each on its own thread with its own window.")
    var workers: Int = 1

    @Option(
        help:
            "Seconds after which a probe with no reply counts as lost (sooner past ~300k probes/s a worker: a probe overtaken by window×4, at least 65536, later ones is lost too)."
    )
    var lossTimeout: Double = 0.2

    @Option(help: ArgumentHelp("Write the round-trip distribution to FILE (HdrHistogram .hgrm).", valueName: "file"))
    var histogram: String?

    @Flag(help: "Print the statistics as one JSON object on the last line, too.")
    var json = false

    @Flag(help: "Send one datagram per message instead of GSO trains, and receive without GRO.")
    var noOffload = false

    func validate() throws {
        guard duration > 0, duration <= 86_400 else {
            throw ValidationError("--duration must be a number of seconds above 0, at most 86400 (got \(duration))")
        }
        try OptionChecks.probeSize(size)
        if let overhead = key.sealedOverhead, size + overhead > 65_507 {
            throw ValidationError(
                "--size \(size) is too large to seal: the envelope adds \(overhead) bytes, up to 65507 in all"
            )
        }
        guard (1...16_384).contains(window) else { throw ValidationError("--window \(window) is out of range 1-16384") }
        guard rate >= 0, rate <= 100_000_000 else {
            throw ValidationError(
                "--rate must be 0 (unpaced) or a number of datagrams per second up to 1e8 (got \(rate))"
            )
        }
        guard (1...64).contains(workers) else { throw ValidationError("--workers \(workers) is out of range 1-64") }
        guard lossTimeout > 0, lossTimeout <= 60 else {
            throw ValidationError("--loss-timeout must be a number of seconds above 0, at most 60 (got \(lossTimeout))")
        }
    }

    func run() throws {
        let target = try destination.resolve()
        let sealing = try key.load()
        let histogramFile = try histogram.map { try OutputFile(path: $0) }
        let stop = try StopSignal.catchingInterrupts()
        let live = LiveLine()
        let start = MonotonicInstant.now()
        var configuration = BenchWorker.Configuration(
            destination: target,
            payloadSize: size,
            window: window,
            rate: rate / Double(workers),
            lossTimeout: MonotonicClock.duration(seconds: lossTimeout),
            start: start,
            end: start + MonotonicClock.duration(seconds: duration),
            live: live.isEnabled,
            offload: !noOffload,
            stopRequested: { stop.isRequested }
        )
        sealing?.seal(&configuration)
        let summary: LatencySummary
        do {
            defer { live.clear() }
            summary = try BenchRun(configuration: configuration, workers: workers).run(
                progress: live.isEnabled ? { live.show($0.description) } : nil
            )
        } catch let failure as BenchFailure {
            throw RuntimeFailure(failure.description)
        }
        let lines = summary.benchLines(target: destination.address, workers: workers, window: window, rate: rate)
        lines.forEach(Console.line)
        if let histogramFile { try histogramFile.write(summary.latency.percentileDistribution) }
        if json {
            var object = JSONObject()
            object.add("target", target.description)
            object.add("size", size)
            object.add("window", window)
            object.add("workers", workers)
            object.add("rate", rate, decimals: 3)
            summary.addFields(to: &object)
            Console.line(object.text)
        }
        if summary.counts.received == 0 { throw ExitCode.failure }
    }
}
