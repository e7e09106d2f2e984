import Foundation
import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

// Serialized: each test loads a server flat out, and two at once on a small machine would only measure each other.
@Suite("udp bench", .serialized)
struct BenchCommandTests {
    /// Checks the promises every `--json` object keeps, and returns it.
    @discardableResult
    func expectConsistent(
        _ stdout: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: Any] {
        let json = try lastLineJSON(stdout, sourceLocation: sourceLocation)
        for key in requiredJSONKeys { #expect(json[key] != nil, "no \(key)", sourceLocation: sourceLocation) }
        let sent = integer(json, "sent") ?? -1
        let received = integer(json, "received") ?? -1
        let lost = integer(json, "lost") ?? -1
        #expect(received + lost == sent, "\(json)", sourceLocation: sourceLocation)
        #expect(received > 0, "\(json)", sourceLocation: sourceLocation)
        // The text summary says the same.
        #expect(stdout.contains("\nsent \(sent), received \(received), lost \(lost) ("), sourceLocation: sourceLocation)
        return json
    }

    @Test("against udp echo for a second: every key, received + lost == sent, nothing duplicated")
    func againstEcho() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let start = ContinuousClock.now
        let result = try runUDP("bench", "127.0.0.1:\(port)", "--duration", "1", "--json")
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        // Into a pipe there is no live line: no carriage return, no escape sequence.
        #expect(!result.stdout.contains("\r") && !result.stdout.contains("\u{1B}"))
        let json = try expectConsistent(result.stdout)
        #expect(integer(json, "duplicates") == 0)
        #expect(integer(json, "foreign") == 0)
        let duration = (json["duration_s"] as? NSNumber)?.doubleValue ?? 0
        #expect(duration >= 0.99 && duration < 1.5)
        let p50 = (json["p50_us"] as? NSNumber)?.doubleValue ?? -1
        let p99 = (json["p99_us"] as? NSNumber)?.doubleValue ?? -1
        #expect(p50 > 0 && p50 <= p99)
        #expect(result.stdout.contains("\nrtt min/p50/p90/p99/p99.9/max = "))
    }

    @Test("a server that drops and duplicates: loss and duplicates counted apart, and the run ends on time")
    func lossyServer() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try server.localAddress.port
        let start = ContinuousClock.now
        let bench = try Spawned(
            udp: "bench",
            "127.0.0.1:\(port)",
            "--duration",
            "0.5",
            "--rate",
            "2000",
            "--loss-timeout",
            "0.1",
            "--json"
        )
        // Every 10th datagram dropped, every 7th answered twice; until the bench has been quiet a while.
        let deadline = start + .seconds(4)
        var arrivals = 0
        var quietSince = ContinuousClock.now
        while ContinuousClock.now < deadline, arrivals == 0 || ContinuousClock.now - quietSince < .milliseconds(300) {
            guard let request = try server.receive(timeout: .milliseconds(50)) else { continue }
            quietSince = ContinuousClock.now
            arrivals += 1
            if arrivals % 10 == 0 { continue }
            try server.send(request.payload, to: request.sender)
            if arrivals % 7 == 0 { try server.send(request.payload, to: request.sender) }
        }
        let result = bench.wait(timeout: .seconds(3))
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(result.status == 0)
        let json = try expectConsistent(result.stdout)
        let sent = integer(json, "sent") ?? 0
        #expect(sent == arrivals)
        #expect(integer(json, "lost") == arrivals / 10)
        #expect((integer(json, "duplicates") ?? 0) > 0)
        #expect((integer(json, "received") ?? 0) == sent - arrivals / 10)
    }

    @Test("--histogram FILE writes the distribution in HdrHistogram's .hgrm format")
    func histogramFile() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("udp-bench-\(UUID()).hgrm").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try runUDP("bench", "127.0.0.1:\(port)", "--duration", "0.3", "--histogram", path)
        #expect(result.status == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "       Value     Percentile TotalCount 1/(1-Percentile)")
        #expect(lines.dropFirst().first == "")
        let footer = lines.filter { $0.hasPrefix("#[") }
        #expect(footer.count == 3)
        #expect(footer.first?.hasPrefix("#[Mean    = ") == true)
        #expect(footer.first?.contains(", StdDeviation   = ") == true)
        #expect(footer.dropFirst().first?.hasPrefix("#[Max     = ") == true)
        #expect(footer.dropFirst().first?.contains(", Total count    = ") == true)
        #expect(footer.last?.hasPrefix("#[Buckets = ") == true)
        #expect(footer.last?.contains(", SubBuckets     = ") == true)
        // Rows: value, percentile, total count, 1/(1-percentile); the last at percentile 1.
        let rows = lines.dropFirst(2).filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(rows.count > 2)
        #expect(rows.allSatisfy { $0.split(separator: " ").count >= 3 })
        #expect(rows.last?.split(separator: " ")[1] == "1.000000000000")
    }

    @Test("--workers 2: two sockets, their counts merged")
    func twoWorkers() throws {
        let server = try Spawned(udp: "echo", "--host", "::1", "--port", "0")
        let port = try server.listeningPort()
        let result = try runUDP("bench", "[::1]:\(port)", "--duration", "0.5", "--workers", "2", "--json")
        #expect(result.status == 0)
        let json = try expectConsistent(result.stdout)
        #expect(integer(json, "workers") == 2)
        #expect(result.stdout.contains("\n2 workers, window 64, 64-byte payloads, unpaced, "))
    }

    @Test("no server: every probe lost, exit 1, and still on time")
    func noServer() throws {
        let port = try UDPSocket(bindingTo: .loopbackV4(port: 0)).localAddress.port  // closed again at once
        let start = ContinuousClock.now
        let result = try runUDP("bench", "127.0.0.1:\(port)", "--duration", "0.3", "--json")
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(result.status == 1)
        let json = try lastLineJSON(result.stdout)
        #expect(integer(json, "received") == 0)
        #expect(integer(json, "lost") == integer(json, "sent"))
        #expect((integer(json, "sent") ?? 0) > 0)
    }

    @Test(
        "bad input: one line on stderr",
        arguments: [
            (["--window", "0"], "--window 0 is out of range 1-16384"),
            (["--size", "19"], "--size 19 is out of range 20-65507"),
            (["--size", "65508"], "--size 65508 is out of range 20-65507"),
            (["--duration", "0"], "--duration must be a number of seconds above 0"),
            (["--workers", "0"], "--workers 0 is out of range 1-64"),
            (["--rate=-1"], "--rate must be 0"),
            (["--loss-timeout", "0"], "--loss-timeout must be a number of seconds above 0"),
            (["--histogram", "/nonexistent/dir/rtt.hgrm"], "/nonexistent/dir/rtt.hgrm: no such file or directory"),
        ] as [([String], String)]
    )
    func badOptions(arguments: [String], message: String) throws {
        let process = try Spawned([udpBinary, "bench", "127.0.0.1:9"] + arguments)
        process.closeStandardInput()
        expectOneLineError(process.wait(), containing: message)
    }

    @Test("a bad address: one line on stderr")
    func badAddress() throws {
        expectOneLineError(try runUDP("bench", "127.0.0.1:70000"), containing: "port 70000 is out of range 0-65535")
    }

    @Test("the help shows an invocation")
    func help() throws {
        let result = try runUDP("bench", "--help")
        #expect(result.status == 0)
        #expect(result.stdout.contains("udp bench --duration 10 --window 256 --workers 2 --json '[::1]:9999'"))
    }
}
