import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

@Suite("udp stats and echo --stats")
struct StatsCommandTests {
    @Test("udp stats prints the host's counters; --json as one object")
    func hostCounters() throws {
        let text = try runUDP("stats")
        #expect(text.status == 0)
        for name in ["Udp:", "InDatagrams:", "NoPorts:", "RcvbufErrors:", "SndbufErrors:"] {
            #expect(text.stdout.contains(name))
        }
        let json = try runUDP("stats", "--json")
        #expect(json.stdout.hasPrefix("{\"udp\": {\"InDatagrams\": "))
        #expect(json.stdout.hasSuffix("}}\n"))
    }

    @Test("echo --stats reports its counters and the kernel's drops for its socket")
    func echoStats() throws {
        let server = try Spawned(
            loopbackServer: "echo",
            "--stats",
            "--receive-buffer",
            "1",
            "--no-gro"
        )
        let port = try server.listeningPort()
        let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        // Stop the server, overflow its tiny queue, let it go on: the kernel drops what does not fit.
        server.signal(SIGSTOP)
        for _ in 0..<300 { try client.send([UInt8](repeating: 1, count: 500), to: .loopbackV4(port: port)) }
        server.signal(SIGCONT)
        // The per-second counters say when the server has emptied its queue, and when it has read the
        // datagram queued after the drops (which carries their count).
        #expect(server.readErrorLine { Self.count("received", in: $0) > 0 } != nil)
        try client.send([2], to: .loopbackV4(port: port))
        #expect(server.readErrorLine { Self.count("kernel drops", in: $0) > 0 } != nil)
        server.signal(SIGINT)
        let result = server.wait(timeout: .seconds(5))
        #expect(result.status == 0)
        let last = try #require(result.stderr.split(separator: "\n").last)
        #expect(last.hasPrefix("received "))
        let drops = last.split(separator: " ").last.flatMap { Int($0) } ?? 0
        #expect(drops > 0, "stderr: \(result.stderr)")
    }

    /// The number after `name` in a `--stats` line (`received 12, replied 12, …`), or 0.
    private static func count(_ name: String, in line: String) -> Int {
        guard let range = line.range(of: name + " ") else { return 0 }
        return Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
    }
}
