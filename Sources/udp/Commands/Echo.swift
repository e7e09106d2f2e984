import ArgumentParser
import UDP
import UDPPatterns
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

            Bound to a wildcard address (0.0.0.0, the default, or ::) on a host with several addresses, it \
            answers each request from the address the request was sent to, as a client that checks the source \
            of a reply (a connected socket, dig) needs: it binds one more socket to each of the host's \
            addresses on the port, so each reply leaves from its socket's own address at no cost, and the \
            wildcard socket answers the rest (an address added later, a broadcast) with IP_PKTINFO / \
            IPV6_PKTINFO.

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

    @Flag(
        help: """
            Print the counters every second and at exit, on stderr: received, replied, failed, kernel drops, and \
            the ICMP errors replies drew, by kind (`icmp errors 2 (port unreachable 2)`: peers gone).
            """
    )
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
        let options = EchoServer.Options(
            workers: workers,
            receiveBufferSize: receiveBuffer,
            countsDrops: stats,
            // The framed path reads one datagram at a time and could not split a coalesced train.
            receiveOffload: !noGRO && !framed
        )
        let echo = try EchoServer(bindingTo: try server.bindAddress(), options: options)
        let sealing = try key.load()
        let stop = try StopSignal.catchingInterrupts()
        try announceListening(echo.members[0].socket.socket)
        let total = try echo.run(until: stop) { [self] member throws(UDPError) in
            try serve(member.socket, label: label(member.role, echo), stop, sealing: sealing)
        } share: { member, counters in
            // Each socket's share shows how the kernel spread the peers (workers) or the addresses asked.
            if echo.members.count > 1 && (verbose || stats) {
                Console.error(label(member.role, echo) + counters.description)
            }
        }
        if verbose || stats { Console.error(total.description) }
    }

    /// A socket's name before its counters: `worker 1: `, `[::1]: `, `127.0.0.1 worker 0: `, or nothing for the
    /// only one.
    private func label(_ role: EchoServer.Role, _ echo: EchoServer) -> String {
        switch role {
        case .worker(let worker) where workers > 1: "worker \(worker): "
        case .worker: echo.hasAddressSockets ? Self.label(echo.address.ip) + ": " : ""
        case .localAddress(let address, let worker): Self.label(address) + (workers > 1 ? " worker \(worker): " : ": ")
        }
    }

    /// An address as a line's label: IPv6 in brackets, so `[::1]: received 3` reads as it should.
    private static func label(_ address: IPAddress) -> String {
        address.family == .inet ? "\(address)" : "[\(address)]"
    }

    /// One worker: reflect batches until SIGINT or SIGTERM.
    private func serve(
        _ shared: SharedUDPSocket,
        label: String,
        _ stop: StopSignal,
        sealing: (any CommandSealing)?
    ) throws(UDPError) -> Reflector.Counters {
        if framed { return try serveFramed(shared, stop) }
        var reflector = makeReflector(sealing)
        let format: PayloadFormat = hex ? .hex : .text
        try reflector.run(
            shared.socket,
            until: stop,
            reportInterval: stats ? .seconds(1) : nil,
            report: { Console.error(label + $0.description) },
            observe: verbose
                ? { (batch: borrowing DatagramBatch, slots: Int) in
                    batch.receivedLines(slots, format: format).forEach(Console.line)
                } : nil,
            sendFailed: verbose ? { (error: UDPError) in Console.error("udp: \(error)") } : nil
        )
        return reflector.counters
    }

    /// A worker's reflector: with `--key-file`, one that opens requests with the opener all workers share and
    /// seals replies with a sealer of its own.
    private func makeReflector(_ sealing: (any CommandSealing)?) -> Reflector {
        let prefix = prefix.map { Array($0.utf8) } ?? []
        return sealing?.reflector(prefix: prefix, batchSize: batch, admission: admission)
            ?? Reflector(prefix: prefix, batchSize: batch, admission: admission)
    }

    /// `--framed`: each request is answered through an idempotent server, a datagram at a time; replies to
    /// a retried request id come from its cache (30 s, 4096 entries).
    private func serveFramed(_ shared: SharedUDPSocket, _ stop: StopSignal) throws(UDPError) -> Reflector.Counters {
        var server = FramedEchoServer(
            prefix: Array((self.prefix ?? "").utf8),
            reportInterval: stats ? .seconds(1) : nil,
            start: .now()
        )
        try server.serve(on: shared.socket, until: stop) { [verbose] event in
            switch event {
            case .answered(let peer, let size):
                if verbose { Console.line("from \(peer.unmapped): \(size) bytes, framed") }
            case .notFramed(let peer):
                if verbose { Console.error("udp: from \(peer.unmapped): not a framed request") }
            case .report(let counters, let cache): Console.error(counters.framedDescription(cache))
            }
        }
        if verbose || stats {
            Console.error("handled \(server.cacheCounters.handled), from cache \(server.cacheCounters.servedFromCache)")
        }
        return server.counters
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
}
