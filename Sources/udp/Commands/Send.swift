import ArgumentParser
import UDP
import UDPPatterns
import UDPSeal

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

            A unicast destination is connected, so only its own replies count and an ICMP port unreachable \
            ends the wait at once (`connection refused`). To a broadcast address (which needs --broadcast) or a \
            multicast group, every reply within the timeout is printed, with its sender under --verbose.
            """
    )

    @OptionGroup var key: KeyOptions

    @OptionGroup var target: DestinationOptions

    @Argument(help: "Payload to send; without it, each line of stdin is one datagram.")
    var message: String?

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
        let socket = try UDPSocket(family: destination.family)
        if let local { try socket.bind(to: local) }
        if broadcast { try socket.setBroadcast(true) }
        if let multicastTTL { try socket.setMulticastHops(multicastTTL) }
        if let multicastInterface { try socket.setMulticastInterface(MulticastInterface(parsing: multicastInterface)) }
        // Connecting lets the kernel filter out strangers and report ICMP port unreachable; replies to a group
        // or a broadcast come from other addresses, so those stay unconnected.
        let manyRepliers = isGroup || broadcast
        if !manyRepliers { try withBroadcastHint { () throws(UDPError) in try socket.connect(to: destination) } }

        var client = Client(
            destination: destination,
            manyRepliers: manyRepliers,
            policy: retryPolicy,
            verbose: verbose,
            format: hex ? .hex : .text
        )
        if let sealKey = try key.load() {
            client.sealer = Sealer(key: sealKey)
            client.opener = Opener(keys: [sealKey], accepting: .reply)
        }
        if framed {
            guard !manyRepliers, key.keyFile == nil, !noReply else {
                throw RuntimeFailure("--framed goes with one unicast destination, without --key-file or --no-reply")
            }
            var exchange = FramedExchange(
                client: RequestReplyClient(policy: retryPolicy),
                destination: destination,
                verbose: verbose,
                format: hex ? .hex : .text
            )
            let messages = message.map { [Array($0.utf8)] } ?? Array(InputLines())
            var failed = 0
            for payload in messages where try !exchange.run(payload, socket) { failed += 1 }
            if failed > 0 { throw ExitCode.failure }
            return
        }
        var unanswered = 0
        if let message {
            if try !client.exchange(Array(message.utf8), socket, expectReply: !noReply) { unanswered += 1 }
        } else {
            for line in InputLines() where try !client.exchange(line, socket, expectReply: !noReply) {
                unanswered += 1
            }
        }
        if unanswered > 0 { throw ExitCode.failure }
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

/// The tutorial's client: send, wait with a timeout, resend with backoff, give up with a clear message.
struct Client {
    let destination: SocketAddress
    let manyRepliers: Bool
    let policy: RetryPolicy
    let verbose: Bool
    let format: PayloadFormat
    /// With `--key-file`: seals each request; each attempt gets a sequence number of its own.
    var sealer: Sealer?
    /// With `--key-file`: opens each reply; one that does not open is ignored, as if it never came.
    var opener: Opener?

    /// Sends `payload` and prints its reply (or every reply, for a group or broadcast).
    /// - Returns: False when nothing answered.
    mutating func exchange(_ payload: [UInt8], _ socket: borrowing UDPSocket, expectReply: Bool) throws -> Bool {
        // A reply that arrives after we gave up on the previous message must not pass for this one's.
        discardLateReplies(socket)
        var random = SystemRandomNumberGenerator()
        let schedule = policy.waits(using: &random)
        for (attempt, wait) in schedule.enumerated() {
            let datagram = sealer == nil ? payload : sealer!.seal(payload)
            try withBroadcastHint { () throws(UDPError) in try socket.send(datagram, to: destination) }
            if verbose {
                Console.error(
                    "sent \(payload.count) bytes to \(destination)" + (attempt > 0 ? " (retry \(attempt))" : "")
                )
            }
            guard expectReply else { return true }
            if try awaitReplies(socket, for: wait) { return true }
        }
        let total = schedule.reduce(Duration.zero, +)
        let attempts = schedule.count == 1 ? "" : " (\(schedule.count) attempts)"
        Console.error("no reply within \(Self.seconds(total)) seconds\(attempts)")
        return false
    }

    /// Waits up to `wait` for a reply; for a group or broadcast, prints every reply until `wait` is over.
    private mutating func awaitReplies(_ socket: borrowing UDPSocket, for wait: Duration) throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        var replies = 0
        while true {
            let left = deadline - clock.now
            guard left > .zero else { return replies > 0 }
            let received = Result { () throws(UDPError) in try socket.receive(timeout: left) }
            if case .failure(let error) = received, error.code == .connectionRefused {
                throw RuntimeFailure("\(destination): connection refused (nothing listens on that port)")
            }
            guard var datagram = try received.get() else { return replies > 0 }
            if opener != nil {
                do {
                    datagram.payload = try opener!.open(datagram.payload).payload
                } catch {
                    if verbose { Console.error("ignored a reply from \(datagram.sender.unmapped): \(error)") }
                    continue
                }
            }
            replies += 1
            if verbose {
                Console.error("reply from \(datagram.sender.unmapped): \(datagram.length) bytes")
            }
            print(datagram)
            if !manyRepliers { return true }
        }
    }

    private func print(_ datagram: Datagram) {
        if case .text = format, PayloadFormat.printable(datagram.payload, allowNewlines: true) != nil,
            !datagram.payload.isEmpty
        {
            var bytes = datagram.payload
            if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
            Console.raw(bytes)
        } else {
            Console.line(format.block(datagram.payload))
        }
        if datagram.isTruncated {
            Console.error("udp: reply truncated: \(datagram.length) bytes, \(datagram.payload.count) shown")
        }
    }

    private func discardLateReplies(_ socket: borrowing UDPSocket) {
        while let late = try? socket.receive(timeout: .zero) {
            if verbose { Console.error("discarded a late reply from \(late.sender.unmapped)") }
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        // Rounded, not truncated: 0.3 + 0.6 + 1.2 s add up to 2.0999… in binary and must print as 2.1.
        let milliseconds = Int(seconds) * 1000 + Int((attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
        if milliseconds % 1000 == 0 { return String(milliseconds / 1000) }
        var text = String(Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}

/// Runs `body`, turning the kernel's EACCES (a broadcast address without SO_BROADCAST) into advice.
@discardableResult
private func withBroadcastHint<T>(_ body: () throws(UDPError) -> T) throws -> T {
    let result = Result(catching: body)
    if case .failure(let error) = result, error.errno == .permissionDenied {
        let target = error.address.map { " \($0)" } ?? ""
        throw RuntimeFailure("\(error.operation)\(target): permission denied (a broadcast address? pass --broadcast)")
    }
    return try result.get()
}

/// `--framed`: the request/reply client of UDPPatterns drives the socket; replies are matched by request id,
/// so a late reply to an earlier attempt or message can never pass for this one's.
struct FramedExchange {
    var client: RequestReplyClient
    let destination: SocketAddress
    let verbose: Bool
    let format: PayloadFormat

    /// Sends `payload` with retries until its reply or the policy gives up. Returns false on no reply.
    mutating func run(_ payload: [UInt8], _ socket: borrowing UDPSocket) throws -> Bool {
        let clock = ContinuousClock()
        let id = try Result { () throws(RequestReplyClient.StartError) in try client.start(payload, now: clock.now) }
            .mapError { RuntimeFailure("cannot frame the request: \($0)") }.get()
        while true {
            while let transmit = client.pollTransmit(now: clock.now) {
                try socket.send(transmit.bytes)
                if verbose { Console.error("sent request \(transmit.requestID), attempt \(transmit.attempt)") }
            }
            while let event = client.pollEvent() {
                if case .failed(id, let error) = event {
                    var text = "\(error)"
                    if client.counters.malformed > 0 {
                        // An RFC 862 echo sends the request frame back: it arrives, but is no reply.
                        text += " (datagrams came back, but not as framed replies: is the server `udp echo --framed`?)"
                    }
                    Console.error(text)
                    return false
                }
            }
            let wait = (client.nextDeadline ?? clock.now) - clock.now
            let received = Result { () throws(UDPError) in try socket.receive(timeout: max(wait, .zero)) }
            if case .failure(let error) = received, error.code == .connectionRefused {
                throw RuntimeFailure("\(destination): connection refused (nothing listens on that port)")
            }
            guard let datagram = try received.get() else {
                client.handleTimeout(now: clock.now)
                continue
            }
            switch client.handleDatagram(datagram.payload, now: clock.now) {
            case .completed(id, let reply):
                Console.line(format.block(reply))
                return true
            case .ignored(let reason):
                if verbose { Console.error("ignored a datagram: \(reason)") }
            case let other:
                if verbose { Console.error("ignored: \(other)") }
            }
        }
    }
}
