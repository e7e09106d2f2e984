import Foundation
import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

/// The JSON object on the last line of `stdout`, which `--json` promises.
func lastLineJSON(_ stdout: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let line = try #require(stdout.split(separator: "\n").last, "no output", sourceLocation: sourceLocation)
    let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
    return try #require(object as? [String: Any], "last line is not an object: \(line)", sourceLocation: sourceLocation)
}

/// The integer at `key`, or nil.
func integer(_ object: [String: Any], _ key: String) -> Int? { (object[key] as? NSNumber)?.intValue }

/// The keys `ping --json` and `bench --json` both promise.
let requiredJSONKeys = [
    "sent", "received", "lost", "loss_pct", "duplicates", "reordered", "pps", "mbps", "min_us", "p50_us", "p90_us",
    "p99_us", "p999_us", "max_us", "duration_s",
]

/// Answers each datagram that reaches `server` as `respond` says (with the 1-based arrival number), until
/// `arrivals` have come or `timeout` passes.
func serve(
    _ server: borrowing UDPSocket,
    arrivals: Int,
    timeout: Duration = .seconds(5),
    respond: (Int, Datagram) -> [[UInt8]]
) throws {
    let deadline = ContinuousClock.now + timeout
    var count = 0
    while count < arrivals, ContinuousClock.now < deadline {
        guard let request = try server.receive(timeout: .milliseconds(100)) else { continue }
        count += 1
        for reply in respond(count, request) { try server.send(reply, to: request.sender) }
    }
}

@Suite("udp ping")
struct PingCommandTests {
    /// The reply lines of a ping's stdout.
    func replyLines(_ stdout: String) -> [Substring] {
        stdout.split(separator: "\n").filter { $0.contains(" bytes from ") }
    }

    /// Checks `line` is `BYTES bytes from ADDRESS: seq=SEQ time=T ms` with a plausible T. A reply that came before
    /// the kernel began stamping arrivals (it turns that on a moment after the first socket asks) is measured by
    /// the user-space clock and says so: that note is dropped before the check.
    func expectReplyLine(
        _ rawLine: Substring,
        bytes: Int,
        from address: String,
        sequence: Int,
        suffix: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let note = " (user clock)"
        let line = rawLine.hasSuffix(note) ? rawLine.dropLast(note.count) : rawLine
        let prefix = "\(bytes) bytes from \(address): seq=\(sequence) time="
        #expect(line.hasPrefix(prefix), "line was \(line)", sourceLocation: sourceLocation)
        #expect(line.hasSuffix(" ms" + suffix), "line was \(line)", sourceLocation: sourceLocation)
        let time = line.dropFirst(prefix.count).prefix { $0 != " " }
        let milliseconds = Double(time) ?? -1
        #expect(milliseconds >= 0 && milliseconds < 5000, "time was \(time)", sourceLocation: sourceLocation)
    }

    @Test("against udp echo: one line per reply, the statistics, exit 0", arguments: [AddressFamily.inet, .inet6])
    func againstEcho(family: AddressFamily) throws {
        let host = family == .inet ? "127.0.0.1" : "::1"
        let server = try Spawned(udp: "echo", "--host", host, "--port", "0")
        let port = try server.listeningPort()
        let address = family == .inet ? "127.0.0.1:\(port)" : "[::1]:\(port)"
        let result = try runUDP("ping", address, "--count", "3", "--interval", "0.05", "--timeout", "1")
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("PING \(address): 64 data bytes\n"))
        let lines = replyLines(result.stdout)
        #expect(lines.count == 3)
        for (index, line) in lines.enumerated() {
            expectReplyLine(line, bytes: 64, from: address, sequence: index + 1)
        }
        let summary = try #require(result.stdout.components(separatedBy: "\n--- ").last)
        let summaryLines = summary.split(separator: "\n")
        #expect(summaryLines.count == 5, "summary was \(summary)")
        #expect(summaryLines.first == "\(address) udp ping statistics ---")
        #expect(
            summaryLines.dropFirst().first?.hasPrefix("3 packets transmitted, 3 received, 0% packet loss, time ")
                == true
        )
        #expect(summaryLines.dropFirst(2).first?.hasPrefix("rtt min/avg/max/mdev = ") == true)
        #expect(summaryLines.dropFirst(2).first?.hasSuffix(" ms (kernel timestamps)") == true)
        #expect(summaryLines.dropFirst(3).first?.hasPrefix("rtt p50/p90/p99/p99.9 = ") == true)
        #expect(summaryLines.dropFirst(3).first?.hasSuffix(" ms") == true)
        #expect(summaryLines.last?.hasPrefix("user rtt min/avg/max/mdev = ") == true)
        #expect(result.stderr.isEmpty)
    }

    @Test("against the tutorial's `ack: ` server: the reply's length, every probe recognised")
    func againstPrefixingServer() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--prefix", "ack: ")
        let port = try server.listeningPort()
        let result = try runUDP("ping", "127.0.0.1:\(port)", "-c", "3", "-i", "0.05", "--size", "100", "--json")
        #expect(result.status == 0)
        let lines = replyLines(result.stdout)
        #expect(lines.count == 3)
        for (index, line) in lines.enumerated() {
            expectReplyLine(line, bytes: 105, from: "127.0.0.1:\(port)", sequence: index + 1)
        }
        let json = try lastLineJSON(result.stdout)
        #expect(integer(json, "sent") == 3)
        #expect(integer(json, "received") == 3)
        #expect(integer(json, "foreign") == 0)
        #expect(integer(json, "size") == 100)
    }

    @Test("the probe is found wherever the server puts it, and a reply without one is ignored")
    func probeAnywhere() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try server.localAddress.port
        let ping = try Spawned(udp: "ping", "127.0.0.1:\(port)", "-c", "4", "-i", "0.05", "--json", "--verbose")
        try serve(server, arrivals: 4) { _, request in
            // Bytes before and after, so the cheap offset (reply length - request length) misses it; and a
            // foreign datagram first, from the right address, with no probe in it.
            [Array("not a probe".utf8), Array("header<".utf8) + request.payload + Array(">and a longer trailer".utf8)]
        }
        let result = ping.wait()
        #expect(result.status == 0)
        let lines = replyLines(result.stdout)
        #expect(lines.count == 4)
        for (index, line) in lines.enumerated() {
            expectReplyLine(line, bytes: 64 + 7 + 21, from: "127.0.0.1:\(port)", sequence: index + 1)
        }
        #expect(result.stdout.contains("\n4 packets transmitted, 4 received, 0% packet loss, 4 foreign, time "))
        #expect(result.stderr.contains("ignored 11 bytes from 127.0.0.1:\(port): no probe of this run"))
        let json = try lastLineJSON(result.stdout)
        #expect(integer(json, "received") == 4)
        #expect(integer(json, "foreign") == 4)
    }

    @Test("a server that drops, duplicates and reorders: every count exact, in text and JSON")
    func dropDuplicateReorder() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try server.localAddress.port
        let ping = try Spawned(
            udp: "ping",
            "127.0.0.1:\(port)",
            "--count",
            "6",
            "--interval",
            "0.05",
            "--timeout",
            "0.5",
            "--json"
        )
        var held: [UInt8] = []
        try serve(server, arrivals: 6) { arrival, request in
            switch arrival {
            case 2: return []  // dropped: seq 2 is lost
            case 3: return [request.payload, request.payload]  // seq 3 answered twice: one duplicate
            case 4:
                held = request.payload  // seq 4 held back...
                return []
            case 5: return [request.payload, held]  // ...and sent after seq 5: one reordered
            default: return [request.payload]
            }
        }
        let result = ping.wait()
        #expect(result.status == 0)
        let lines = replyLines(result.stdout)
        #expect(lines.count == 6, "stdout was \(result.stdout)")
        let sequences = lines.map { $0.split(separator: " ")[4] }
        #expect(sequences == ["seq=1", "seq=3", "seq=3", "seq=5", "seq=4", "seq=6"])
        #expect(lines[2].hasSuffix(" ms (DUP!)"))
        #expect(
            result.stdout.contains(
                "\n6 packets transmitted, 5 received, 16.667% packet loss, 1 duplicates, 1 reordered, time "
            )
        )
        let json = try lastLineJSON(result.stdout)
        for key in requiredJSONKeys { #expect(json[key] != nil, "no \(key)") }
        #expect(integer(json, "sent") == 6)
        #expect(integer(json, "received") == 5)
        #expect(integer(json, "lost") == 1)
        #expect(integer(json, "duplicates") == 1)
        #expect(integer(json, "reordered") == 1)
        #expect(abs(((json["loss_pct"] as? NSNumber)?.doubleValue ?? 0) - 100.0 / 6) < 0.001)
        let p50 = (json["p50_us"] as? NSNumber)?.doubleValue ?? -1
        let maximum = (json["max_us"] as? NSNumber)?.doubleValue ?? -1
        #expect(p50 > 0 && p50 <= maximum)
        // The held reply waited for the next probe, 50 ms later.
        #expect(maximum >= 40_000)
    }

    @Test("no server: exit 1 and 100% packet loss, whether the port is closed or silent", arguments: [false, true])
    func noReply(silent: Bool) throws {
        let holder = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try holder.localAddress.port
        let start = ContinuousClock.now
        let ping = { try runUDP("ping", "127.0.0.1:\(port)", "-c", "3", "-i", "0.05", "--timeout", "0.3", "--json") }
        let result: (status: CInt, stdout: String, stderr: String)
        if silent {
            result = try ping()
            _ = try holder.localAddress  // bound, and silent, until the ping is done: no ICMP
        } else {
            try holder.close()
            result = try ping()
        }
        #expect(ContinuousClock.now - start >= .milliseconds(400))
        #expect(result.status == 1)
        #expect(replyLines(result.stdout).isEmpty)
        #expect(result.stdout.contains("\n3 packets transmitted, 0 received, 100% packet loss"))
        #expect(!result.stdout.contains("rtt "))
        if !silent {
            let refusals = result.stdout.split(separator: "\n").filter { $0 == "From 127.0.0.1: port unreachable" }
            #expect(refusals.count == 3, "\(result.stdout)")
            #expect(result.stdout.contains("100% packet loss, 3 icmp errors"))
        }
        let json = try lastLineJSON(result.stdout)
        #expect(integer(json, "lost") == 3)
        #expect(integer(json, "icmp_errors") == (silent ? 0 : 3))
        #expect(json["p99_us"] is NSNull)
    }

    @Test("round trips by the kernel's stamps by default, the user-space ones beside them; --timestamps user")
    func timestamps() throws {
        let server = try Spawned(loopbackServer: "echo")
        let port = try server.listeningPort()
        let kernel = try runUDP("ping", "127.0.0.1:\(port)", "-c", "3", "-i", "0.01", "--json")
        #expect(kernel.status == 0)
        #expect(kernel.stdout.contains(" ms (kernel timestamps)\n"))
        #expect(kernel.stdout.contains("\nuser rtt min/avg/max/mdev = "))
        let json = try lastLineJSON(kernel.stdout)
        #expect(json["timestamps"] as? String == "kernel")
        let kernelMinimum = try #require((json["min_us"] as? NSNumber)?.doubleValue)
        let userMinimum = try #require((json["user_min_us"] as? NSNumber)?.doubleValue)
        #expect(kernelMinimum > 0 && kernelMinimum <= userMinimum, "the kernel's round trip lies inside the user's")
        #expect(integer(json, "clock_steps") == 0)

        let user = try runUDP("ping", "127.0.0.1:\(port)", "-c", "2", "-i", "0.01", "--timestamps", "user", "--json")
        #expect(!user.stdout.contains("kernel timestamps") && !user.stdout.contains("user rtt"))
        let userJSON = try lastLineJSON(user.stdout)
        #expect(userJSON["timestamps"] as? String == "user")
        #expect(userJSON["min_us"] as? NSNumber == userJSON["user_min_us"] as? NSNumber)

        expectOneLineError(try runUDP("ping", "127.0.0.1:\(port)", "--timestamps", "tsc"), containing: "timestamps")
        server.signal(SIGINT)
    }

    @Test("Ctrl-C prints the statistics and exits 0 when replies came")
    func interrupted() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let ping = try Spawned(udp: "ping", "127.0.0.1:\(port)", "--interval", "0.05")
        #expect(ping.readLine()?.hasPrefix("PING ") == true)
        for _ in 0..<3 { #expect(ping.readLine()?.contains(" bytes from ") == true) }
        ping.signal(SIGINT)
        let result = ping.wait(timeout: .seconds(3))
        #expect(result.status == 0)
        #expect(result.stdout.contains("--- 127.0.0.1:\(port) udp ping statistics ---"))
        #expect(result.stdout.contains(" packets transmitted, "))
        #expect(result.stdout.contains("rtt min/avg/max/mdev = "))
    }

    @Test(
        "bad input: one line on stderr",
        arguments: [
            (["--size", "19"], "--size 19 is out of range 20-65507"),
            (["--size", "65508"], "--size 65508 is out of range 20-65507"),
            (["--count=-1"], "--count must be 0"),
            (["--interval", "0"], "--interval must be between 0.001 and 3600 seconds"),
            (["--timeout", "0"], "--timeout must be a number of seconds above 0"),
            (["-4", "-6"], "-4 and -6 exclude each other"),
        ] as [([String], String)]
    )
    func badOptions(arguments: [String], message: String) throws {
        let process = try Spawned([udpBinary, "ping", "127.0.0.1:9"] + arguments)
        process.closeStandardInput()
        expectOneLineError(process.wait(), containing: message)
    }

    @Test("a bad address: one line on stderr", arguments: [("127.0.0.1", "needs a port"), ("[::1]:9", "IPv6 address")])
    func badAddress(address: String, message: String) throws {
        expectOneLineError(try runUDP("ping", "-4", address), containing: message)
    }

    @Test("the help shows an invocation; the root help lists ping and bench")
    func help() throws {
        let result = try runUDP("ping", "--help")
        #expect(result.status == 0)
        #expect(result.stdout.contains("udp ping --count 100 --interval 0.01 --json '[::1]:9999'"))
        let root = try runUDP("--help")
        #expect(root.stdout.contains("ping"))
        #expect(root.stdout.contains("bench"))
        #expect(!root.stdout.contains("Not written yet"))
    }
}
