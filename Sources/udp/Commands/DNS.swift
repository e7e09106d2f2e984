import ArgumentParser
import UDP
import UDPDNS
import UDPPatterns
import UDPTools

struct DNS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Ask a DNS server one question over UDP and print its reply as dig does.",
        usage: """
            udp dns NAME [TYPE] @SERVER[:PORT] [<options>]
            udp dns -x ADDRESS @SERVER[:PORT] [<options>]
            """,
        discussion: """
            A stub resolver's query: NAME (absolute, no search list), TYPE (A unless given: A, AAAA, CNAME, MX, \
            NS, PTR, SOA, SRV, TXT, ANY, or any type by number, TYPE65 or 65) and the server to ask, which is \
            required: no query goes anywhere unless you name where. @SERVER is an IP address with an optional \
            port (53 unless given; a host name would need a DNS query of its own), or @system for the first \
            nameserver of /etc/resolv.conf.

              udp dns example.test @198.18.0.53
              udp dns example.test MX @198.18.0.53:5353
              udp dns _sip._udp.example.test SRV @fd75:6470::53
              udp dns -x 198.18.0.7 @198.18.0.53          (PTR of 7.0.18.198.in-addr.arpa)
              udp dns example.test TYPE65 @system

            The reply prints as dig prints it: the header (opcode, status such as NOERROR, NXDOMAIN, SERVFAIL \
            or REFUSED, id, flags qr aa tc rd ra ad cd), the EDNS pseudo-section, the question, then the \
            answer, authority and additional sections, one record a line (`a.test.  300 IN A 198.18.0.7`, MX \
            as `10 mail.example.test.`, TXT quoted with dig's escapes, unknown types as `\\# 3 0A0B0C`), and \
            the round trip. An answered query exits 0 whatever its status, as dig does.

            Each try is a new query with a random id, from a new socket on a random port (RFC 5452), with \
            EDNS(0) offering a 1232-byte payload and RD set (--no-recurse clears it, --no-edns leaves the OPT \
            record out). A try unanswered within --timeout seconds (2) is sent again, each wait --backoff \
            times (2) the one before, up to --tries tries (3): waits of 2, 4 and 8 seconds, 14 in all at \
            worst (dig: 3 tries of 5). An ICMP error for a try (nothing listens on the server's port) moves \
            on to the next at once. A late reply to an earlier try still counts.

            A datagram counts as the reply only when it comes from the server's address and port, is a well \
            formed response, carries the try's id and repeats its question (the name in any case, the type, \
            the class); anything else is dropped and counted, and the last line says so: \
            `;; ignored 2 replies: wrong id`. A truncated reply (flag tc) is shown with a warning: udp speaks \
            UDP only, ask again with `dig +tcp`.

            --count N turns the query into a latency probe, as dnsping: N queries (0: until Ctrl-C), one every \
            --interval seconds, each a single try of --timeout seconds, a line per reply and `udp ping`'s \
            statistics at the end (loss, min/avg/max/mdev, p50/p90/p99/p99.9):

              udp dns --count 10 --interval 0.5 example.test @198.18.0.53

            --json prints one JSON object as the last line: rcode, flags, answers (name, type, ttl, data in \
            dig's form), authority, additional, server, rtt_us, ignored and ignored_reasons, and with --count \
            the keys of `udp ping --json` (sent, received, loss_pct, p50_us…).

            Exit status: 0 when a reply came, 1 when none did (or none of --count's), 64 for bad usage.
            """
    )

    @Argument(
        help: ArgumentHelp(
            "NAME [TYPE] @SERVER[:PORT], the server anywhere among them.",
            valueName: "query"
        )
    )
    var words: [String] = []

    @Option(
        name: .customShort("x"),
        help: ArgumentHelp(
            "Reverse lookup: the PTR record of ADDRESS's in-addr.arpa or ip6.arpa name.",
            valueName: "address"
        )
    )
    var reverse: String?

    @Option(name: [.customShort("p"), .long], help: "The server's port, as dig's -p (or write @SERVER:PORT).")
    var port: UInt16?

    @Option(help: "Queries to send before giving up, each a new id and source port (1-10).")
    var tries: Int = 3

    @Option(help: "Seconds to wait for a reply to the first try (and, with --count, to each query).")
    var timeout: Double = 2

    @Option(help: "Factor by which each try's wait grows over the one before (1-10).")
    var backoff: Double = 2

    @Flag(help: "Clear RD: ask the server for what it knows itself (dig +norec).")
    var noRecurse = false

    @Flag(help: "Send no OPT record: a plain RFC 1035 query (dig +noedns).")
    var noEdns = false

    @Option(name: [.customShort("c"), .long], help: "Probe: send this many queries (0 until Ctrl-C) and summarise.")
    var count: Int?

    @Option(name: [.customShort("i"), .long], help: "Probe: seconds between queries, at least 0.01.")
    var interval: Double = 1

    @Flag(help: "Print one JSON object as the last line, too.")
    var json = false

    @Flag(help: "Print each try and each ignored datagram on stderr.")
    var verbose = false

    /// NAME, TYPE and SERVER, sorted out of ``words`` by ``validate()``'s rules.
    struct Query {
        var name: DNSName
        var type: DNSRecordType
        var server: DNSServer
    }

    func validate() throws {
        _ = try query()
        guard (1...10).contains(tries) else { throw ValidationError("--tries \(tries) is out of range 1-10") }
        try OptionChecks.timeout(timeout)
        guard backoff >= 1, backoff <= 10 else { throw ValidationError("--backoff must be between 1 and 10") }
        if let count, count < 0 { throw ValidationError("--count must be 0 (until Ctrl-C) or more, not \(count)") }
        try OptionChecks.interval(interval, minimum: 0.01)
    }

    /// The question and the server: `@…` is the server wherever it stands; of the other words the first is
    /// NAME and the second TYPE (with -x, the only one is TYPE).
    func query() throws -> Query {
        let servers = words.filter { $0.hasPrefix("@") }
        guard servers.count == 1 else {
            throw ValidationError(
                servers.isEmpty
                    ? "name the server to ask: @ADDRESS[:PORT] (or @system for /etc/resolv.conf's first nameserver)"
                    : "ask one server at a time, not \(servers.joined(separator: " "))"
            )
        }
        let server = try DNSServer(argument: String(servers[0].dropFirst()))
        if port != nil, case .address(_, explicitPort: true) = server {
            throw ValidationError("give the port once: -p or @SERVER:PORT, not both")
        }
        var rest = words.filter { !$0.hasPrefix("@") }[...]
        let name: DNSName
        if let reverse {
            guard let address = IPAddress(reverse) else {
                throw ValidationError("-x '\(reverse)' is not an IPv4 or IPv6 address")
            }
            name = DNSName.reverseLookup(address)
        } else {
            guard let text = rest.popFirst() else { throw ValidationError("name the NAME to look up (or -x ADDRESS)") }
            guard let parsed = DNSName(text) else {
                throw ValidationError("'\(text)' is not a domain name (labels of 1-63 bytes, 255 in all)")
            }
            name = parsed
        }
        var type: DNSRecordType = reverse == nil ? .a : .ptr
        if let text = rest.popFirst() {
            guard let parsed = DNSRecordType(text) else {
                throw ValidationError(
                    "'\(text)' is not a record type: A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT, ANY, TYPE65 or a number"
                )
            }
            type = parsed
        }
        guard rest.isEmpty else {
            throw ValidationError("'\(rest.first!)' is one word too many: NAME [TYPE] @SERVER[:PORT]")
        }
        return Query(name: name, type: type, server: server)
    }

    func run() throws {
        let query = try query()
        let server = try query.server.address(port: port)
        let question = DNSQuestion(name: query.name, type: query.type)
        let stop = try StopSignal.catchingInterrupts()
        let edns: EDNS? = noEdns ? nil : EDNS()
        if let count {
            try probe(question, server: server, count: count, edns: edns, stop: stop)
            return
        }
        var stub = DNSStubQuery(
            server: server,
            question: question,
            recursionDesired: !noRecurse,
            edns: edns,
            policy: RetryPolicy(attempts: tries, timeout: .seconds(timeout), backoff: backoff)
        )
        let sockets = try SharedUDPSocket.queryClients(stub.socketsNeeded, for: server)
        let ports = try sockets.map { try $0.socket.localAddress.port }
        try MachineDriver(stop: stop).run(&stub, on: sockets) { show(DNSText.verboseLine($0, ports: ports)) }
        var answer: DNSStubQuery.Answer?
        switch stub.outcome {
        case .answered(let answered):
            answer = answered
            DNSText.reply(answered, question: question).forEach(Console.line)
            if !stub.ignored.description.isEmpty { Console.line(";; " + stub.ignored.description) }
        case .noReply(let tries, let lastError):
            let failure = DNSText.noReply(server, tries: tries, lastError, ignored: stub.ignored)
            if !json { throw RuntimeFailure(failure) }
            Console.error("udp: " + failure)
        case .sendFailed(let error, _):
            throw error
        case nil:
            break
        }
        if json {
            Console.line(
                DNSAnswerJSON.object(server: server, question: question, answer: answer, ignored: stub.ignored).text
            )
        }
        if answer == nil { throw ExitCode.failure }
    }

    /// `--count`: the probe, a line per query, `udp ping`'s statistics.
    private func probe(
        _ question: DNSQuestion,
        server: SocketAddress,
        count: Int,
        edns: EDNS?,
        stop: StopSignal
    ) throws {
        var session = DNSPingSession(
            server: server,
            question: question,
            count: count,
            interval: .seconds(interval),
            timeout: .seconds(timeout),
            recursionDesired: !noRecurse,
            edns: edns
        )
        let sockets = try SharedUDPSocket.queryClients(DNSPingSession.socketCount, for: server)
        let ports = try sockets.map { try $0.socket.localAddress.port }
        var latency = LatencyRecorder(highestNanoseconds: MonotonicClock.nanoseconds(seconds: timeout))
        Console.line("DNS PING \(server): \(question.name.presentation) \(question.type)")
        let timeoutText = NumberFormat.trimmed(timeout, maximumDecimals: 3)
        let started = MonotonicInstant.now()
        let ending = try MachineDriver(stop: stop).run(&session, on: sockets) { event in
            if case .answered(_, let answer) = event { latency.record(answer.roundTrip) }
            let line = DNSText.pingLine(event, timeout: timeoutText, ports: ports)
            if case .query = event { show(line) } else { Console.line(line) }
        }
        if ending == .stopped { session.stop() }
        if let failure = session.sendFailure { throw failure }
        let summary = session.summary(latency: latency, duration: started.duration(to: .now()))
        summary.statisticsLines(of: server.description, tool: "dns", noun: "queries").forEach(Console.line)
        if !session.ignored.description.isEmpty { Console.line(session.ignored.description) }
        if json {
            var object = DNSAnswerJSON.object(
                server: server,
                question: question,
                answer: session.lastAnswer,
                ignored: session.ignored
            )
            summary.addFields(to: &object)
            Console.line(object.text)
        }
        if summary.counts.received == 0 { throw ExitCode.failure }
    }

    /// Under --verbose, each try and each ignored datagram on stderr.
    private func show(_ line: String) {
        if verbose { Console.error(line) }
    }
}
