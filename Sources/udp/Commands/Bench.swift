import ArgumentParser
import UDP
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
        guard (Probe.headerSize...65_507).contains(size) else {
            throw ValidationError(
                "--size \(size) is out of range \(Probe.headerSize)-65507 (a probe's header takes \(Probe.headerSize) bytes)"
            )
        }
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
        let start = MonotonicClock.now()
        var configuration = BenchWorker.Configuration(
            destination: target,
            payloadSize: size,
            window: window,
            rate: rate / Double(workers),
            lossTimeout: MonotonicClock.nanoseconds(seconds: lossTimeout),
            start: start,
            end: start + MonotonicClock.nanoseconds(seconds: duration),
            live: live.isEnabled,
            offload: !noOffload,
            stopRequested: { stop.isRequested }
        )
        sealing?.seal(&configuration)
        let summary: LatencySummary
        do {
            defer { live.clear() }
            summary = try BenchRun(configuration: configuration, workers: workers).run(
                progress: live.isEnabled ? { live.show(progressLine($0)) } : nil
            )
        } catch let failure as BenchFailure {
            throw RuntimeFailure(failure.description)
        }
        printSummary(summary, target: target)
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

    /// The live line: `3 s: 41234 pps, 21.1 Mbit/s, loss 0%, p99 52.1 us`.
    private func progressLine(_ progress: BenchProgress) -> String {
        let elapsed = Double(MonotonicClock.nanoseconds(progress.elapsed)) / 1e9
        var line = "\(NumberFormat.fixed(elapsed, 0)) s: \(NumberFormat.fixed(progress.packetsPerSecond, 0)) pps, "
        line += "\(NumberFormat.fixed(progress.megabitsPerSecond, 1)) Mbit/s, "
        line += "loss \(NumberFormat.percent(progress.lossPercent))%"
        if let p99 = progress.p99 {
            line += ", p99 \(NumberFormat.fixed(Double(MonotonicClock.nanoseconds(p99)) / 1000, 1)) us"
        }
        return line
    }

    private func printSummary(_ summary: LatencySummary, target: SocketAddress) {
        let counts = summary.counts
        let pace = rate > 0 ? "\(NumberFormat.trimmed(rate, maximumDecimals: 3)) probes/s" : "unpaced"
        Console.line("--- \(destination.address) udp bench statistics ---")
        Console.line(
            "\(workers) worker\(workers == 1 ? "" : "s"), window \(window), \(size)-byte payloads, \(pace), "
                + "\(NumberFormat.fixed(summary.duration, 3)) s"
        )
        var line = "sent \(counts.sent), received \(counts.received), lost \(counts.lost) "
        line += "(\(NumberFormat.percent(summary.lossPercent))%), duplicates \(counts.duplicates), "
        line += "reordered \(counts.reordered)"
        for (count, name) in [(counts.late, "late"), (summary.foreign, "foreign"), (summary.errors, "errors")]
        where count > 0 {
            line += ", \(name) \(count)"
        }
        Console.line(line)
        Console.line(
            "\(NumberFormat.fixed(summary.packetsPerSecond, 0)) pps, "
                + "\(NumberFormat.fixed(summary.megabitsPerSecond, 3)) Mbit/s of payload"
        )
        let latency = summary.latency
        guard latency.count > 0 else { return }
        let values =
            [latency.minimum] + LatencySummary.percentiles.map { latency.percentile($0.percentile) ?? 0 }
            + [latency.maximum]
        let labels = (["min"] + LatencySummary.percentiles.map(\.label) + ["max"]).joined(separator: "/")
        Console.line(
            "rtt \(labels) = " + values.map { NumberFormat.fixed(Double($0) / 1000, 1) }.joined(separator: "/") + " us"
        )
    }
}
