import ArgumentParser
import UDP

struct Echo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reflect each datagram back to its sender.",
        discussion: """
            Without --prefix this is an RFC 862 echo server: each reply is byte for byte the request. With \
            --prefix each reply is the prefix followed by the request, and --verbose prints every datagram; \
            together they are the tutorial's server exactly:

              udp echo --port 9999 --prefix 'ack: ' --verbose

            The first line on stdout is `listening on udp/PORT`, with the port actually bound (try --port 0). \
            Datagrams are received and answered up to --batch at a time (recvmmsg/sendmmsg). SIGINT or SIGTERM \
            stops the server; with --verbose it then prints its counters on stderr.
            """
    )

    @OptionGroup var server: ServerOptions

    @Option(help: "Text to put before each reply (the tutorial's server uses 'ack: ').")
    var prefix: String?

    @Flag(help: "Print `from PEER: PAYLOAD` for every datagram.")
    var verbose = false

    @Flag(help: "With --verbose, show payloads as hex.")
    var hex = false

    @Option(help: "Datagrams received and sent per system call.")
    var batch: Int = 64

    func validate() throws {
        guard (1...1024).contains(batch) else { throw ValidationError("--batch \(batch) is out of range 1-1024") }
        if let prefix, prefix.utf8.count > 65_507 {
            throw ValidationError("--prefix is \(prefix.utf8.count) bytes, more than a datagram can carry")
        }
    }

    func run() throws {
        let socket = try UDPSocket(bindingTo: server.bindAddress())
        try socket.setReceiveTimeout(StopSignal.pollInterval)
        StopSignal.install()
        try announceListening(socket)
        var reflector = Reflector(
            prefix: prefix.map { Array($0.utf8) } ?? [],
            verbose: verbose,
            format: hex ? .hex : .text,
            batch: batch
        )
        try reflector.serve(socket)
        if verbose {
            Console.error(
                "received \(reflector.received), replied \(reflector.replied), failed \(reflector.failed)"
            )
        }
    }
}

/// The echo loop: receive a batch, answer every datagram to its own sender, repeat until SIGINT/SIGTERM.
struct Reflector: ~Copyable {
    let prefix: [UInt8]
    let verbose: Bool
    let format: PayloadFormat
    private var incoming: DatagramBatch
    private var replies: DatagramBatch
    private(set) var received = 0
    private(set) var replied = 0
    private(set) var failed = 0

    init(prefix: [UInt8], verbose: Bool, format: PayloadFormat, batch: Int) {
        self.prefix = prefix
        self.verbose = verbose
        self.format = format
        incoming = DatagramBatch(capacity: batch)
        // Replies with a prefix are built in a second batch; an echo sends the received batch straight back.
        replies = DatagramBatch(capacity: prefix.isEmpty ? 1 : batch)
    }

    mutating func serve(_ socket: borrowing UDPSocket) throws(UDPError) {
        while !StopSignal.requested {
            let result = Result { () throws(UDPError) in try socket.receive(into: &incoming) }
            guard let count = try ignoringIdleWakeups(result) else { continue }
            received += count
            if verbose { report(count) }
            let outcome: (sent: Int, failed: Int)
            if prefix.isEmpty {
                outcome = Self.sendAll(incoming, socket, verbose: verbose)
            } else {
                replies.removeAll()
                for index in 0..<count { addPrefixedReply(to: index) }
                outcome = Self.sendAll(replies, socket, verbose: verbose)
            }
            replied += outcome.sent
            failed += outcome.failed
        }
    }

    private func report(_ count: Int) {
        for index in 0..<count {
            let info = incoming.info(at: index)
            var line = "from \(info.sender.unmapped): \(format.singleLine(incoming.payload(at: index)))"
            if info.isTruncated { line += " (truncated: \(info.length) bytes)" }
            Console.line(line)
        }
    }

    private mutating func addPrefixedReply(to index: Int) {
        let payload = incoming.payload(at: index)
        let prefix = self.prefix
        let added = replies.appendReply(to: index, of: incoming) { buffer in
            let size = prefix.count + payload.count
            guard size <= buffer.count, size <= AddressFamily.inet.maximumPayloadSize else { return -1 }
            buffer.copyBytes(from: prefix)
            UnsafeMutableRawBufferPointer(rebasing: buffer[prefix.count...]).copyMemory(from: payload)
            return size
        }
        if !added {
            failed += 1
            if verbose {
                Console.error(
                    "udp: reply to \(incoming.peer(at: index).unmapped) would exceed the datagram limit; dropped"
                )
            }
        }
    }

    /// Sends every datagram of `batch`; one that fails (a peer gone, a full queue) is counted and skipped.
    private static func sendAll(
        _ batch: borrowing DatagramBatch,
        _ socket: borrowing UDPSocket,
        verbose: Bool
    )
        -> (sent: Int, failed: Int)
    {
        var next = 0
        var sent = 0
        var failed = 0
        while next < batch.count {
            do {
                let count = try socket.send(batch, startingAt: next)
                sent += count
                next += count
            } catch {
                failed += 1
                if verbose { Console.error("udp: \(error)") }
                next += 1
            }
        }
        return (sent, failed)
    }
}
