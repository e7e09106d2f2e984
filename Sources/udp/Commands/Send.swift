import ArgumentParser
import UDP
import UDPPatterns
import UDPTools

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send datagrams and print the replies.",
        discussion: """
            Sends MESSAGE (or, without it, each line of stdin as one datagram) to ADDR and prints each reply's \
            payload on stdout: as text when it is printable UTF-8, escaped otherwise, or in hex with --hex. With \
            no reply within --timeout seconds (2 by default), it says `no reply within N seconds` on stderr and \
            exits 1. --retries N sends up to N more times, each wait --backoff times longer than the last: the \
            tutorial's query() pattern, for requests that are safe to repeat.

              udp send 127.0.0.1:9999 hello
              udp send --retries 3 --timeout 0.5 '[::1]:9999' ping
              printf 'one\\ntwo\\n' | udp send localhost:9999

            Bytes that are not text go as hex (--hex-input) or straight from a file, the whole file one \
            datagram (--file):

              udp send --hex-input 127.0.0.1:9999 'de ad 0a be ef'
              udp send --file query.bin --hex 127.0.0.1:5353

            A unicast destination is connected, so only its own replies count, and an ICMP error ends the wait \
            at once, naming who sent it: `connection refused (port unreachable from 198.18.2.2: …)`, or \
            `network unreachable from 198.18.1.1` from a router. To a broadcast address (which needs --broadcast) or a \
            multicast group, every reply within the timeout is printed, with its sender under --verbose.
            """
    )

    @OptionGroup var key: KeyOptions

    @OptionGroup var target: DestinationOptions

    @Argument(help: "Payload to send; without it, each line of stdin is one datagram.")
    var message: String?

    @Option(
        help: ArgumentHelp(
            "Send the whole file as one datagram, bytes as they are (a captured DNS query, a CoAP message).",
            valueName: "path"
        )
    )
    var file: String?

    @Flag(help: "MESSAGE and each line of stdin are hex digits (`de ad be ef`, spaces ignored), sent as bytes.")
    var hexInput = false

    @Option(help: "Seconds to wait for a reply to the first attempt.")
    var timeout: Double = 2

    @Option(help: "Times to resend when no reply comes.")
    var retries: Int = 0

    @Option(help: "Factor by which each retry's wait grows.")
    var backoff: Double = 2

    @Flag(
        help:
            "Draw each retry's wait at random between --timeout and its backoff value (full jitter), so many clients do not retry in step."
    )
    var jitter = false

    @Option(help: "Give up on a message after this many seconds in all, whatever --retries says.")
    var deadline: Double?

    @Flag(
        help:
            "Frame each request with a request id (UDPPatterns' header), so retries are matched to replies and an `udp echo --framed` server answers a retry from its reply cache."
    )
    var framed = false

    @Flag(help: "Send only; do not wait for replies.")
    var noReply = false

    @Option(help: ArgumentHelp("Local address to send from: HOST:PORT.", valueName: "address"))
    var bind: String?

    @Flag(help: "Allow sending to a broadcast address (SO_BROADCAST).")
    var broadcast = false

    @Option(help: "Hop limit (TTL) of multicast datagrams; 1 keeps them on the local link.")
    var multicastTTL: Int?

    @Option(
        help: ArgumentHelp(
            "Interface for multicast: a name, an index, or (IPv4) one of its addresses.",
            valueName: "interface"
        )
    )
    var multicastInterface: String?

    @Flag(help: "Print what is sent and who replied, on stderr.")
    var verbose = false

    @Flag(help: "Print replies as hex.")
    var hex = false

    func validate() throws {
        guard timeout > 0, timeout.isFinite, timeout <= 86_400 else {
            throw ValidationError("--timeout must be a number of seconds above 0 (got \(timeout))")
        }
        guard (0...100).contains(retries) else { throw ValidationError("--retries \(retries) is out of range 0-100") }
        guard backoff >= 1, backoff <= 100 else { throw ValidationError("--backoff must be between 1 and 100") }
        if let deadline, !(deadline > 0 && deadline <= 86_400) {
            throw ValidationError("--deadline must be a number of seconds above 0 (got \(deadline))")
        }
        if let multicastTTL, !(0...255).contains(multicastTTL) {
            throw ValidationError("--multicast-ttl \(multicastTTL) is out of range 0-255")
        }
        if file != nil && (message != nil || hexInput) {
            throw ValidationError("--file sends the file as it is: leave out MESSAGE and --hex-input")
        }
        if hexInput, let message, HexDigits.bytes(message, ignoringWhitespace: true) == nil {
            throw ValidationError("MESSAGE is not hex digits in pairs: '\(message.prefix(40))'")
        }
    }

    func run() throws {
        let destination = try target.resolve()
        let isGroup = destination.ip.isMulticast
        let isBroadcast: Bool = if case .v4(let v4) = destination { v4.ip.isLimitedBroadcast } else { false }
        if isBroadcast && !broadcast {
            throw RuntimeFailure("\(destination.ip) is a broadcast address: pass --broadcast to send to it")
        }
        let local = try bind.map { text throws(UDPError) in
            try SocketAddress(resolving: text, family: destination.family)
        }
        let socket = try UDPSocket.datagramClient(
            for: destination,
            local: local,
            broadcast: broadcast,
            multicastHops: multicastTTL,
            multicastInterface: try multicastInterface.map { text throws(UDPError) in
                try MulticastInterface(parsing: text)
            }
        )
        // Replies to a group or a broadcast come from other addresses: only a unicast destination is connected.
        let manyRepliers = isGroup || broadcast
        if !manyRepliers { try explainingErrors(for: destination) { try socket.connectForReplies(to: destination) } }
        let format: PayloadFormat = hex ? .hex : .text
        let driver = MachineDriver(stop: try StopSignal())
        var failed = 0
        if framed {
            guard !manyRepliers, key.keyFile == nil, !noReply else {
                throw RuntimeFailure("--framed goes with one unicast destination, without --key-file or --no-reply")
            }
            var client = FramedClient(destination: destination, policy: retryPolicy)
            try forEachMessage { payload in
                let outcome = try explainingErrors(for: destination) {
                    try client.exchange(payload, on: socket, driver: driver) {
                        if verbose { Console.error($0.description) }
                    }
                }
                if case .success(let reply)? = outcome { Self.print(reply, format: format) } else { failed += 1 }
                if case .failure(let failure)? = outcome { Console.error("\(failure)") }
            }
        } else {
            var client = DatagramClient(destination: destination, manyRepliers: manyRepliers, policy: retryPolicy)
            try key.load()?.seal(&client)
            try forEachMessage { payload in
                let answered = try explainingErrors(for: destination) {
                    try client.exchange(payload, on: socket, driver: driver, expectReply: !noReply) {
                        show($0, format: format, destination: destination)
                    }
                }
                if !answered { failed += 1 }
            }
        }
        if failed > 0 { throw ExitCode.failure }
    }

    /// Prints one event of the plain client: replies on stdout, the rest on stderr (under --verbose but the end
    /// of a wait).
    private func show(_ event: DatagramClient.Event, format: PayloadFormat, destination: SocketAddress) {
        if verbose || !event.isDetail { Console.error(event.text(destination: destination)) }
        if case .reply(let datagram) = event { Self.print(datagram, format: format) }
    }

    /// A reply's payload: as it is when it is printable text (with a newline added), in a block otherwise.
    private static func print(_ datagram: Datagram, format: PayloadFormat) {
        print(datagram.payload, format: format)
        if datagram.isTruncated {
            Console.error("udp: reply truncated: \(datagram.length) bytes, \(datagram.payload.count) shown")
        }
    }

    /// A payload, written raw only when ``NetworkText`` finds it printable (line breaks and tabs allowed),
    /// since a multi-line reply would be escaped line breaks and all by ``Console/line(_:)``.
    private static func print(_ payload: [UInt8], format: PayloadFormat) {
        if case .text = format, NetworkText.printable(payload, allowNewlines: true) != nil, !payload.isEmpty {
            var bytes = payload
            if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
            Console.raw(bytes)
        } else {
            Console.line(format.block(payload))
        }
    }

    /// Runs `body`, turning the failures a person can act on into sentences: EACCES (a broadcast address
    /// without SO_BROADCAST), an ICMP port unreachable, a request too large to frame.
    private func explainingErrors<T>(for destination: SocketAddress, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as UDPError {
            if let event = error.deliveryError {
                let from = event.offender.map { " from \($0)" } ?? ""
                if event.kind == .portUnreachable {
                    throw RuntimeFailure(
                        "\(destination): connection refused (port unreachable\(from): nothing listens on that port)"
                    )
                }
                throw RuntimeFailure("\(destination): \(event.kind)\(from)")
            }
            if error.code == .connectionRefused {
                throw RuntimeFailure("\(destination): connection refused (nothing listens on that port)")
            }
            if error.errno == .permissionDenied {
                let target = error.address.map { " \($0)" } ?? ""
                throw RuntimeFailure(
                    "\(error.operation)\(target): permission denied (a broadcast address? pass --broadcast)"
                )
            }
            throw error
        } catch let error as RequestReplyClient.StartError {
            throw RuntimeFailure("cannot frame the request: \(error)")
        }
    }

    /// How long to wait after each attempt: `timeout`, then `timeout × backoff`, and so on (UDPPatterns'
    /// schedule, shared with the library's request/reply client).
    var retryPolicy: RetryPolicy {
        RetryPolicy(
            attempts: retries + 1,
            timeout: .seconds(timeout),
            backoff: backoff,
            deadline: deadline.map { .seconds($0) },
            jitter: jitter ? .full : .none
        )
    }
}
