import ArgumentParser
import UDP
import UDPSeal
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
              rtt min/avg/max/mdev = 0.041/0.063/0.101/0.020 ms
              rtt p50/p90/p99/p99.9 = 0.060/0.090/0.101/0.101 ms

            Duplicates, reordered replies (a sequence number below one already received), late and foreign \
            replies, and errors appear in the second line when not zero. --json adds one JSON object as the \
            last line. The socket is connected, so only ADDR's replies count, and an ICMP port unreachable \
            shows as `from ADDR: connection refused`; the probes go on, as ping(8)'s do.

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

    @Flag(help: "Print the statistics as one JSON object on the last line, too.")
    var json = false

    @Flag(help: "Print lost probes and ignored replies on stderr.")
    var verbose = false

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 (until Ctrl-C) or more, not \(count)") }
        guard interval >= 0.001, interval <= 3600 else {
            throw ValidationError("--interval must be between 0.001 and 3600 seconds (got \(interval))")
        }
        guard (Probe.headerSize...65_507).contains(size) else {
            throw ValidationError(
                "--size \(size) is out of range \(Probe.headerSize)-65507 (a probe's header takes \(Probe.headerSize) bytes)"
            )
        }
        guard timeout > 0, timeout <= 60 else {
            throw ValidationError("--timeout must be a number of seconds above 0, at most 60 (got \(timeout))")
        }
    }

    func run() throws {
        let target = try destination.resolve()
        let socket = try UDPSocket(family: target.family)
        try socket.connect(to: target)
        let sealKey = try key.load()
        StopSignal.install()
        let shown = destination.address == target.description ? "" : " (\(target))"
        Console.line("PING \(destination.address)\(shown): \(size) data bytes")
        var session = PingSession(
            target: target,
            count: count,
            interval: MonotonicClock.nanoseconds(seconds: interval),
            size: size,
            timeout: timeout,
            verbose: verbose
        )
        if let sealKey { session.seal(with: sealKey) }
        try session.run(socket)
        let summary = session.summary
        Console.line("")
        Console.line("--- \(destination.address) udp ping statistics ---")
        Console.line(Self.countsLine(summary) + ", time \(Int((summary.duration * 1000).rounded()))ms")
        if let mean = summary.latency.mean, let deviation = summary.latency.meanDeviation {
            let latency = summary.latency
            let values = [Double(latency.minimum), mean, Double(latency.maximum), deviation]
            Console.line("rtt min/avg/max/mdev = " + Self.milliseconds(values))
            let percentiles = LatencySummary.percentiles.map { Double(latency.percentile($0.percentile) ?? 0) }
            let labels = LatencySummary.percentiles.map(\.label).joined(separator: "/")
            Console.line("rtt \(labels) = " + Self.milliseconds(percentiles))
        }
        if json {
            var object = JSONObject()
            object.add("target", target.description)
            object.add("size", size)
            summary.addFields(to: &object)
            Console.line(object.text)
        }
        if summary.counts.received == 0 { throw ExitCode.failure }
    }

    /// `6 packets transmitted, 5 received, 16.667% packet loss, 1 duplicates, 1 reordered`: ping(8)'s words,
    /// with the counts after the loss only when not zero.
    static func countsLine(_ summary: LatencySummary) -> String {
        let counts = summary.counts
        var line = "\(counts.sent) packets transmitted, \(counts.received) received, "
        line += "\(NumberFormat.percent(summary.lossPercent))% packet loss"
        let extras = [
            (counts.duplicates, "duplicates"), (counts.reordered, "reordered"), (counts.late, "late"),
            (summary.foreign, "foreign"), (summary.errors, "errors"),
        ]
        for (count, name) in extras where count > 0 { line += ", \(count) \(name)" }
        return line
    }

    private static func milliseconds(_ nanoseconds: [Double]) -> String {
        nanoseconds.map { NumberFormat.milliseconds(nanoseconds: $0) }.joined(separator: "/") + " ms"
    }
}

/// The ping loop: one probe every interval, every reply classified as it comes, every wait bounded by the
/// next send, the oldest probe's deadline, and a short poll for the stop flag.
struct PingSession: ~Copyable {
    let target: SocketAddress
    let count: Int
    let interval: UInt64
    let size: Int
    let verbose: Bool
    private let timeoutText: String
    private let probe = Probe()
    private var tracker: ProbeTracker
    private var latency: LatencyRecorder
    private var foreign = 0
    private var errors = 0
    /// Probes the loop tried to send, including any the kernel refused.
    private var attempts = 0
    private var request: [UInt8]
    private var reply = [UInt8](repeating: 0, count: 65_535)
    private var started: UInt64 = 0
    private var stopped: UInt64 = 0
    /// With `--key-file`: probes go out sealed, and replies that do not open count as foreign.
    private var sealer: Sealer?
    private var opener: Opener?

    mutating func seal(with key: SealKey) {
        sealer = Sealer(key: key)
        opener = Opener(keys: [key], accepting: .reply)
    }

    /// How long a wait may last before the loop looks at the stop flag again.
    private static let stopCheck: UInt64 = 100_000_000

    init(target: SocketAddress, count: Int, interval: UInt64, size: Int, timeout: Double, verbose: Bool) {
        self.target = target
        self.count = count
        self.interval = interval
        self.size = size
        self.verbose = verbose
        let timeoutNanoseconds = MonotonicClock.nanoseconds(seconds: timeout)
        timeoutText = NumberFormat.trimmed(timeout, maximumDecimals: 3)
        // Enough slots for every probe that can be in flight within the timeout, and then some, so a
        // duplicate of a recent probe is still recognised.
        let inFlight = Int((Double(timeoutNanoseconds) / Double(interval)).rounded(.up)) + 2
        tracker = ProbeTracker(capacity: max(64, inFlight), lossTimeout: timeoutNanoseconds)
        latency = LatencyRecorder(highest: timeoutNanoseconds)
        request = probe.payload(sequence: 0, size: size)
    }

    var summary: LatencySummary {
        LatencySummary(
            counts: tracker.counts,
            foreign: foreign,
            errors: errors,
            latency: latency,
            duration: Double(stopped - started) / 1e9,
            payloadSize: size
        )
    }

    mutating func run(_ socket: borrowing UDPSocket) throws {
        started = MonotonicClock.now()
        var nextSend = started
        while !StopSignal.requested {
            let now = MonotonicClock.now()
            expire(now)
            let more = count == 0 || attempts < count
            if more && now >= nextSend {
                try send(socket)
                // After a stall (a suspended process), one probe goes at once and the rhythm resumes.
                nextSend = max(nextSend + interval, now)
                continue
            }
            if !more && tracker.inFlight == 0 { break }
            var wake = now + Self.stopCheck
            if more { wake = min(wake, nextSend) }
            if let deadline = tracker.nextDeadline { wake = min(wake, deadline) }
            try receive(socket, waiting: wake > now ? wake - now : 0)
        }
        stopped = MonotonicClock.now()
        tracker.finish()
    }

    private mutating func expire(_ now: UInt64) {
        let verbose = verbose
        let timeoutText = timeoutText
        tracker.expire(now: now) { sequence in
            if verbose { Console.error("no reply to seq=\(sequence) within \(timeoutText) seconds") }
        }
    }

    private mutating func send(_ socket: borrowing UDPSocket) throws {
        attempts += 1
        let sequence = tracker.nextSequence
        request.withUnsafeMutableBytes { probe.writeHeader(sequence: sequence, into: $0) }
        // An ICMP error left by an earlier probe is reported by this send instead of sending; the error is
        // cleared by reporting it, so one more try goes out.
        for _ in 0..<2 {
            let sentAt = MonotonicClock.now()
            let result: Result<Int, UDPError>
            if sealer != nil {
                let sealed = sealer!.seal(request)
                result = Result { () throws(UDPError) in try socket.send(sealed) }
            } else {
                result = request.withUnsafeBytes { bytes in Result { () throws(UDPError) in try socket.send(bytes) } }
            }
            switch result {
            case .success:
                tracker.sent(1, at: sentAt)
                return
            case .failure(let error):
                try report(error)
            }
        }
    }

    private mutating func receive(_ socket: borrowing UDPSocket, waiting wait: UInt64) throws {
        let timeout = MonotonicClock.duration(nanoseconds: wait)
        let result = reply.withUnsafeMutableBytes { buffer in
            Result { () throws(UDPError) in try socket.receive(into: buffer, timeout: timeout) }
        }
        switch result {
        case .failure(let error):
            try report(error)
        case .success(nil):
            return
        case .success(let info?):
            let now = MonotonicClock.now()
            let size = size
            let probe = probe
            if opener != nil {
                guard let opened = try? opener!.open(reply[..<info.count]) else {
                    foreign += 1
                    if verbose {
                        Console.error("ignored \(info.length) bytes from \(info.sender.unmapped): did not open")
                    }
                    return
                }
                let sequence = opened.payload.withUnsafeBytes { probe.sequence(in: $0, requestSize: size) }
                handle(info, sequence: sequence, at: now)
                return
            }
            let sequence = reply.withUnsafeBytes { bytes in
                probe.sequence(in: UnsafeRawBufferPointer(rebasing: bytes[..<info.count]), requestSize: size)
            }
            handle(info, sequence: sequence, at: now)
        }
    }

    private mutating func handle(_ info: ReceiveInfo, sequence: UInt64?, at now: UInt64) {
        let sender = info.sender.unmapped
        guard let sequence else {
            foreign += 1
            if verbose { Console.error("ignored \(info.length) bytes from \(sender): no probe of this run") }
            return
        }
        let line = "\(info.length) bytes from \(sender): seq=\(sequence)"
        switch tracker.handleReply(sequence: sequence, at: now) {
        case .received(let roundTrip, _):
            latency.record(roundTrip)
            Console.line(line + " time=\(NumberFormat.roundTrip(nanoseconds: roundTrip)) ms")
        case .duplicate(let roundTrip):
            Console.line(line + " time=\(NumberFormat.roundTrip(nanoseconds: roundTrip)) ms (DUP!)")
        case .late(let roundTrip?):
            Console.line(line + " time=\(NumberFormat.roundTrip(nanoseconds: roundTrip)) ms (late)")
        case .late(nil):
            Console.line(line + " (late)")
        case .unknown:
            foreign += 1
            if verbose { Console.error("ignored \(info.length) bytes from \(sender): seq=\(sequence) was never sent") }
        }
    }

    /// An error the kernel reports for the path rather than for this program (ICMP port or host unreachable)
    /// is shown and counted, and the probes go on, as ping(8)'s do; anything else ends the run.
    private mutating func report(_ error: UDPError) throws(UDPError) {
        switch error.errno {
        case .connectionRefused?, .hostUnreachable?, .networkUnreachable?, .noBufferSpace?:
            errors += 1
            Console.line("from \(target): \(error.errno?.description ?? "\(error.code)")")
        default:
            throw error
        }
    }
}
