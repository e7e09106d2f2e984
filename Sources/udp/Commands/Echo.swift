import ArgumentParser
import UDP
import UDPPatterns
import UDPSeal
import UDPTools

struct Echo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reflect each datagram back to its sender.",
        discussion: """
            Without --prefix this is an RFC 862 echo server: each reply is byte for byte the request. With \
            --prefix each reply is the prefix followed by the request, and --verbose prints every datagram; \
            together they are the tutorial's server exactly:

              udp echo --port 9999 --prefix 'ack: ' --verbose

            The first line on stdout is `listening on udp/PORT`, with the port actually bound (try --port 0). \
            It is built for speed: datagrams are received and answered up to --batch at a time \
            (recvmmsg/sendmmsg) into buffers allocated once; UDP GRO lets the kernel hand over a burst from one \
            peer as one train, answered with one GSO send (--no-gro turns that off; where the kernel refuses \
            GSO the replies go out one by one); --workers N runs N threads, each with its own SO_REUSEPORT \
            socket on the port, among which the kernel spreads the peers:

              udp echo --port 9999 --workers 2

            --rate-limit answers each source address at most so many datagrams per second, and \
            --amplification-limit F never sends a source more than F times the bytes it sent (per source, \
            over its life in the table): the defences of a reflector against forged sources. With --prefix \
            each reply is longer than its request, by the prefix: a 2-byte request with `ack: ` draws 7 bytes \
            (3.5×), so pick F above 1 + prefix/typical request, or leave the guard off for the tutorial's \
            server. State is kept for at most --max-peers sources.

            SIGINT or SIGTERM stops the server; with --verbose or --stats it then prints its counters on stderr.
            """
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var key: KeyOptions

    @Option(help: "Text to put before each reply (the tutorial's server uses 'ack: ').")
    var prefix: String?

    @Flag(help: "Print `from PEER: PAYLOAD` for every datagram.")
    var verbose = false

    @Flag(help: "With --verbose, show payloads as hex.")
    var hex = false

    @Option(help: "Datagrams (or GRO trains) received and sent per system call.")
    var batch: Int = 64

    @Flag(help: "Do not ask the kernel to coalesce datagrams (UDP GRO).")
    var noGRO = false

    @Option(help: "Threads, each with its own SO_REUSEPORT socket on the port.")
    var workers: Int = 1

    @Flag(help: "Print the counters every second and at exit, on stderr: received, replied, failed, kernel drops.")
    var stats = false

    @Option(help: "Ask for this receive queue size (SO_RCVBUF; the kernel doubles it and caps it at rmem_max).")
    var receiveBuffer: Int?

    @Option(help: "Answer each source at most this many datagrams per second (a token bucket per address).")
    var rateLimit: Double?

    @Option(help: "With --rate-limit, how many datagrams a quiet source may send at once (default: one second's).")
    var burst: Double?

    @Option(
        help: "Send each source at most this many times the bytes received from it (3 is QUIC's limit; off by default)."
    )
    var amplificationLimit: Double?

    @Flag(
        help:
            "Speak UDPPatterns' framed requests (as `udp send --framed`): a retried request is answered from a reply cache, so the reply is computed once per request id."
    )
    var framed = false

    @Option(help: "Sources remembered by --rate-limit and --amplification-limit; the least recently seen go first.")
    var maxPeers: Int = 4096

    func validate() throws {
        guard (1...1024).contains(batch) else { throw ValidationError("--batch \(batch) is out of range 1-1024") }
        if let rateLimit, !(rateLimit > 0 && rateLimit <= 1e9) {
            throw ValidationError("--rate-limit must be above 0 datagrams per second (got \(rateLimit))")
        }
        if let burst, !(burst >= 1 && burst <= 1e9) {
            throw ValidationError("--burst must be at least 1 (got \(burst))")
        }
        if let amplificationLimit, !(amplificationLimit > 0 && amplificationLimit <= 1e6) {
            throw ValidationError("--amplification-limit must be above 0 (got \(amplificationLimit))")
        }
        guard (1...10_000_000).contains(maxPeers) else { throw ValidationError("--max-peers must be at least 1") }
        if let receiveBuffer, !(1...1 << 30).contains(receiveBuffer) {
            throw ValidationError("--receive-buffer \(receiveBuffer) is out of range 1-1073741824")
        }
        guard (1...256).contains(workers) else {
            throw ValidationError("--workers \(workers) is out of range 1-256")
        }
        if framed {
            // The framed path answers one request at a time through the reply cache; it does not open sealed
            // datagrams or police sources, and silently ignoring such a request would be worse than refusing.
            let unsupported = [
                key.keyFile != nil ? "--key-file" : nil, rateLimit != nil ? "--rate-limit" : nil,
                burst != nil ? "--burst" : nil, amplificationLimit != nil ? "--amplification-limit" : nil,
            ].compactMap { $0 }
            if let first = unsupported.first { throw ValidationError("--framed does not combine with \(first)") }
        }
        if let prefix, prefix.utf8.count > 65_507 {
            throw ValidationError("--prefix is \(prefix.utf8.count) bytes, more than a datagram can carry")
        }
    }

    func run() throws {
        // Every socket is made and bound before the first line, so a bad address fails before `listening on`.
        let first = try makeSocket(server.bindAddress())
        let port = try first.localAddress.port
        var others: [CInt] = []
        for _ in 1..<workers {
            var address = try server.bindAddress()
            address.port = port
            others.append(try makeSocket(address).takeDescriptor())
        }
        let sealKey = try key.load()
        // One opener for all workers: one replay window per sender, whichever socket a datagram reaches.
        let opener = sealKey.map { SharedOpener(keys: [$0], accepting: .request) }
        StopSignal.install()
        try announceListening(first)

        var threads = WorkerThreads<Result<Reflector.Counters, UDPError>>()
        for (index, descriptor) in others.enumerated() {
            try threads.start { [self] in
                Result { () throws(UDPError) in
                    try serve(UDPSocket(adopting: descriptor), worker: index + 1, key: sealKey, opener: opener)
                }
            }
        }
        let mine = Result { () throws(UDPError) in try serve(first, worker: 0, key: sealKey, opener: opener) }
        var total = Reflector.Counters()
        for (worker, result) in ([mine] + threads.join()).enumerated() {
            let counters = try result.get()
            // Each worker's share shows how the kernel spread the peers over the sockets.
            if workers > 1 && (verbose || stats) { Console.error("worker \(worker): " + Self.describe(counters)) }
            total = total + counters
        }
        if verbose || stats { Console.error(Self.describe(total)) }
    }

    /// One worker: reflect batches until SIGINT or SIGTERM.
    private func serve(
        _ socket: borrowing UDPSocket,
        worker: Int,
        key: SealKey?,
        opener: SharedOpener?
    ) throws(UDPError)
        -> Reflector.Counters
    {
        if framed { return try serveFramed(socket) }
        var sealing: Reflector.Sealing?
        if let key, let opener {
            sealing = Reflector.Sealing(opener: opener, sealer: Sealer(key: key, direction: .reply))
        }
        var reflector = Reflector(
            prefix: prefix.map { Array($0.utf8) } ?? [],
            batchSize: batch,
            admission: admission,
            sealing: sealing
        )
        let format: PayloadFormat = hex ? .hex : .text
        var nextReport = MonotonicClock.now() + 1_000_000_000
        let label = workers > 1 ? "worker \(worker): " : ""
        while !StopSignal.requested {
            if stats, MonotonicClock.now() >= nextReport {
                Console.error(label + Self.describe(reflector.counters))
                nextReport += 1_000_000_000
            }
            if verbose {
                _ = try reflector.reflectNextBatch(
                    socket,
                    observe: { (batch: borrowing DatagramBatch, slots: Int) in Self.report(batch, slots, format) },
                    sendFailed: { (error: UDPError) in Console.error("udp: \(error)") }
                )
            } else {
                _ = try reflector.reflectNextBatch(socket)
            }
        }
        return reflector.counters
    }

    /// `--framed`: each request is answered through an idempotent server, a datagram at a time; replies to
    /// a retried request id come from its cache (30 s, 4096 entries).
    private func serveFramed(_ socket: borrowing UDPSocket) throws(UDPError) -> Reflector.Counters {
        var server = IdempotentServer<SocketAddress>(timeToLive: .seconds(30))
        var counters = Reflector.Counters()
        let prefix = Array((self.prefix ?? "").utf8)
        var buffer = [UInt8](repeating: 0, count: 65_535)
        var nextReport = MonotonicClock.now() + 1_000_000_000
        while !StopSignal.requested {
            if stats, MonotonicClock.now() >= nextReport {
                Console.error(Self.describeFramed(counters, server.counters))
                nextReport += 1_000_000_000
            }
            let received = buffer.withUnsafeMutableBytes { bytes in
                Result { () throws(UDPError) in try socket.receive(into: bytes) }
            }
            guard let info = try ignoringIdleWakeups(received) else { continue }
            counters.received += 1
            let request = buffer[..<info.count]
            guard let reply = server.respond(to: request, from: info.sender, now: .now, handler: { prefix + $0 }) else {
                counters.failed += 1  // not a framed request: nothing to answer
                if verbose { Console.error("udp: from \(info.sender.unmapped): not a framed request") }
                continue
            }
            if verbose { Console.line("from \(info.sender.unmapped): \(info.count) bytes, framed") }
            do throws(UDPError) {
                try socket.send(reply, to: info.sender)
                counters.replied += 1
            } catch {
                counters.failed += 1
            }
        }
        if verbose || stats {
            Console.error("handled \(server.counters.handled), from cache \(server.counters.servedFromCache)")
        }
        return counters
    }

    /// The framed path's counters: datagrams, and how many requests ran the handler or came from the cache.
    private static func describeFramed(
        _ counters: Reflector.Counters,
        _ server: IdempotentServer<SocketAddress>.Counters
    )
        -> String
    {
        "received \(counters.received), replied \(counters.replied), failed \(counters.failed), "
            + "handled \(server.handled), from cache \(server.servedFromCache)"
    }

    /// The per-source rules asked for, or nil.
    private var admission: PeerAdmission.Policy? {
        guard rateLimit != nil || amplificationLimit != nil else { return nil }
        return PeerAdmission.Policy(
            ratePerSecond: rateLimit,
            burst: burst,
            amplificationLimit: amplificationLimit,
            maximumPeers: maxPeers
        )
    }

    static func describe(_ counters: Reflector.Counters) -> String {
        var text = "received \(counters.received), replied \(counters.replied), failed \(counters.failed)"
        if counters.rateLimited > 0 { text += ", rate-limited \(counters.rateLimited)" }
        if counters.amplificationLimited > 0 { text += ", amplification-limited \(counters.amplificationLimited)" }
        if counters.rejected > 0 { text += ", rejected by authentication \(counters.rejected)" }
        if counters.truncated > 0 { text += ", truncated \(counters.truncated)" }
        return text + ", kernel drops \(counters.kernelDrops)"
    }

    /// `from PEER: PAYLOAD` for each datagram of a received batch, trains included.
    private static func report(_ batch: borrowing DatagramBatch, _ slots: Int, _ format: PayloadFormat) {
        for slot in 0..<slots {
            let info = batch.info(at: slot)
            for segment in 0..<batch.segmentCount(at: slot) {
                var line = "from \(info.sender.unmapped): \(format.singleLine(batch.segment(segment, at: slot)))"
                if info.isTruncated { line += " (truncated: \(info.length) bytes)" }
                Console.line(line)
            }
        }
    }

    private func makeSocket(_ address: SocketAddress) throws(UDPError) -> UDPSocket {
        let socket = try UDPSocket(family: address.family)
        if workers > 1 { try socket.setReusePort(true) }
        try socket.bind(to: address)
        try socket.setReceiveTimeout(StopSignal.pollInterval)
        if stats { try socket.setReceiveDropCount(true) }
        if let receiveBuffer { try socket.setReceiveBufferSize(receiveBuffer) }
        // GRO needs Linux 5.0; without it the server still works, a datagram at a time. The framed path reads
        // one datagram per call and could not split a coalesced train, so it never asks for GRO.
        if !noGRO && !framed { try? socket.setGenericReceiveOffload(true) }
        return socket
    }
}
