import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

@Suite("udp echo")
struct EchoCommandTests {
    /// A client socket with a receive timeout, so no test waits for ever.
    func client(_ family: AddressFamily = .inet) throws -> UDPSocket {
        let socket = try UDPSocket(bindingTo: family == .inet ? .loopbackV4(port: 0) : .loopbackV6(port: 0))
        try socket.setReceiveTimeout(.seconds(5))
        return socket
    }

    @Test("an RFC 862 echo: the reply is byte for byte the request, binary included")
    func reflectsExactly() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let socket = try client()
        let payloads: [[UInt8]] = [
            Array("hello".utf8), [0, 1, 2, 255, 10, 13], [], Array(repeating: 7, count: 60_000),
        ]
        for payload in payloads {
            try socket.send(payload, to: .loopbackV4(port: port))
            let reply = try socket.receive()
            #expect(reply.payload == payload)
            #expect(reply.sender.port == port)
        }
    }

    @Test("--prefix 'ack: ' --verbose is the tutorial's server")
    func seedServer() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--prefix", "ack: ", "--verbose")
        let port = try server.listeningPort()
        let socket = try client()
        try socket.send(Array("hello".utf8), to: .loopbackV4(port: port))
        let reply = try socket.receive()
        #expect(String(decoding: reply.payload, as: UTF8.self) == "ack: hello")
        let me = try socket.localAddress
        #expect(server.readLine() == "from \(me): hello")
    }

    @Test("--verbose escapes a binary payload instead of writing it to the terminal")
    func verboseEscapesBinary() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--verbose")
        let port = try server.listeningPort()
        let socket = try client()
        try socket.send([0x1B, 0x5B, 0x32, 0x4A, 0x00, 0xFF], to: .loopbackV4(port: port))
        _ = try socket.receive()
        let line = try #require(server.readLine())
        #expect(line.hasSuffix(": \\x1b[2J\\x00\\xff"))
        #expect(!line.utf8.contains(0x1B))
    }

    @Test("--host :: serves IPv4 and IPv6 clients on one dual-stack socket")
    func dualStack() throws {
        let server = try Spawned(udp: "echo", "--host", "::", "--port", "0", "--verbose")
        let port = try server.listeningPort()
        let v4 = try client(.inet)
        try v4.send(Array("four".utf8), to: .loopbackV4(port: port))
        #expect(try v4.receive().payload == Array("four".utf8))
        // The v4 peer is shown as the IPv4 address it is, not as ::ffff:127.0.0.1.
        #expect(server.readLine() == "from \(try v4.localAddress): four")
        let v6 = try client(.inet6)
        try v6.send(Array("six".utf8), to: .loopbackV6(port: port))
        #expect(try v6.receive().payload == Array("six".utf8))
    }

    @Test("the first line arrives through a pipe at once, and SIGTERM ends the server with status 0")
    func stopsCleanly() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        _ = try server.listeningPort(timeout: .seconds(10))
        server.signal(SIGTERM)
        #expect(server.wait(timeout: .seconds(5)).status == 0)
    }

    @Test("a reply that the prefix would push past the datagram limit is dropped, not sent cut")
    func oversizedReply() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--prefix", "ack: ")
        let port = try server.listeningPort()
        let socket = try client()
        try socket.setReceiveTimeout(.milliseconds(300))
        try socket.send([UInt8](repeating: 1, count: 65_505), to: .loopbackV4(port: port))
        #expect(throws: UDPError.self) { _ = try socket.receive() }
        try socket.setReceiveTimeout(.seconds(5))
        try socket.send(Array("ok".utf8), to: .loopbackV4(port: port))
        #expect(try socket.receive().payload == Array("ack: ok".utf8))
    }

    @Test(
        "a GSO train is answered datagram by datagram, with and without --prefix, with and without GRO",
        arguments: [[], ["--prefix", "ack: "], ["--no-gro"], ["--no-gro", "--prefix", "ack: "]]
    )
    func trains(flags: [String]) throws {
        let server = try Spawned([udpBinary, "echo", "--host", "127.0.0.1", "--port", "0"] + flags)
        let port = try server.listeningPort()
        let socket = try client()
        let segments = (0..<8).map { index in
            (0..<(index == 7 ? 13 : 50)).map { UInt8(truncatingIfNeeded: $0 * 7 + index) }
        }
        var batch = DatagramBatch(capacity: 1)
        let joined = segments.flatMap { $0 }
        _ = batch.append(to: .loopbackV4(port: port), segmentSize: 50) { buffer in
            buffer.copyBytes(from: joined)
            return joined.count
        }
        try socket.send(&batch)
        let prefix = flags.contains("--prefix") ? Array("ack: ".utf8) : []
        for segment in segments {
            #expect(try socket.receive().payload == prefix + segment)
        }
    }

    @Test("--workers 3: every client is answered, whichever socket the kernel gives it to")
    func workers() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--workers", "3", "--verbose")
        let port = try server.listeningPort()
        for index in 0..<30 {
            let socket = try client()
            try socket.send(Array("client \(index)".utf8), to: .loopbackV4(port: port))
            #expect(try socket.receive().payload == Array("client \(index)".utf8))
        }
        server.signal(SIGINT)
        let result = server.wait(timeout: .seconds(5))
        #expect(result.status == 0)
        #expect(result.stderr.contains("received 30, replied 30, failed 0"))
        // Each worker answered some: 30 source ports over 3 sockets leave one idle with odds of about 1 in 65 000.
        for worker in 0..<3 {
            let line = result.stderr.split(separator: "\n").first { $0.hasPrefix("worker \(worker): received ") }
            #expect(line != nil && !(line!.hasPrefix("worker \(worker): received 0,")))
        }
    }

    @Test("send --framed against a plain echo says why nothing counts as a reply")
    func framedAgainstPlainEcho() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let result = try runUDP("send", "--framed", "127.0.0.1:\(port)", "hi", "--timeout", "0.2")
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("no reply"))
        #expect(result.stderr.hasSuffix("not as framed replies: is the server `udp echo --framed`?)\n"))
    }

    @Test("--framed answers requests that arrive as one GSO train, each on its own (it never asks for GRO)")
    func framedTrain() throws {
        // Two framed requests of the same size, captured from `udp send --framed`.
        let trap = try client()
        let trapPort = try trap.localAddress.port
        var frames: [[UInt8]] = []
        for message in ["a", "b"] {
            _ = try runUDP("send", "--framed", "127.0.0.1:\(trapPort)", message, "--timeout", "0.05")
            frames.append(try trap.receive().payload)
        }
        #expect(frames[0].count == frames[1].count)
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--framed", "--stats")
        let port = try server.listeningPort()
        let socket = try client()
        var batch = DatagramBatch(capacity: 1)
        let joined = frames[0] + frames[1]
        _ = batch.append(to: .loopbackV4(port: port), segmentSize: frames[0].count) { buffer in
            buffer.copyBytes(from: joined)
            return joined.count
        }
        try socket.send(&batch)
        #expect(try socket.receive(maximumSize: 2048, timeout: .seconds(5)) != nil)
        #expect(try socket.receive(maximumSize: 2048, timeout: .seconds(5)) != nil)
        server.signal(SIGINT)
        #expect(server.wait(timeout: .seconds(5)).stderr.contains("handled 2, from cache 0"))
    }

    @Test("--stats counts the ICMP errors that replies draw, by kind")
    func statsCountICMPErrors() throws {
        let server = try Spawned(loopbackServer: "echo", "--stats")
        let port = try server.listeningPort()
        for _ in 0..<2 {
            // Below the ephemeral range, so no other test's socket takes the port over before the reply comes.
            let gone = try socketBelowTheEphemeralRange()
            try gone.send(Array("bye".utf8), to: .loopbackV4(port: port))
            try gone.close()
        }
        var seen: [String] = []
        let line = server.readErrorLine(timeout: .seconds(5)) { line in
            seen.append(line)
            return line.contains("icmp errors") && !line.contains("icmp errors 1 ")
        }
        #expect(
            line?.contains("received 2, replied 2, failed 0, icmp errors 2 (port unreachable 2)") == true,
            "\(seen)"
        )
        server.signal(SIGINT)
        #expect(server.wait(timeout: .seconds(5)).status == 0)
    }

    @Test("--rate-limit answers a flooding source only as fast as allowed, and counts the rest")
    func rateLimit() throws {
        let server = try Spawned(
            loopbackServer: "echo",
            "--rate-limit",
            "5",
            "--burst",
            "5",
            "--stats"
        )
        let port = try server.listeningPort()
        let socket = try client()
        for index in 0..<20 { try socket.send([UInt8(index)], to: .loopbackV4(port: port)) }
        var replies = 0
        while try socket.receive(timeout: .milliseconds(300)) != nil { replies += 1 }
        #expect(replies >= 5 && replies <= 7, "a burst of 5, and at most a token or two more: got \(replies)")
        server.signal(SIGINT)
        let result = server.wait(timeout: .seconds(5))
        #expect(result.stderr.contains("rate-limited \(20 - replies)"), "stderr: \(result.stderr)")
    }

    @Test("--amplification-limit refuses replies that would send a source more than F times its bytes")
    func amplificationGuard() throws {
        let server = try Spawned(
            loopbackServer: "echo",
            "--prefix",
            "0123456789",
            "--amplification-limit",
            "2"
        )
        let port = try server.listeningPort()
        let socket = try client()
        try socket.send(Array("x".utf8), to: .loopbackV4(port: port))  // 1 byte in, 11 out: refused
        #expect(try socket.receive(timeout: .milliseconds(300)) == nil)
        try socket.send(Array(repeating: 0x61, count: 20), to: .loopbackV4(port: port))  // 21 in, 30 out ≤ 42
        #expect(try socket.receive(timeout: .seconds(2))?.payload.count == 30)
    }
}

/// A loopback socket on a port below the kernel's ephemeral range (32768 and up by default): once closed, its
/// port is not handed to another test's port 0 bind while a reply to it is on its way. Tries random ports
/// until one is free.
func socketBelowTheEphemeralRange() throws -> UDPSocket {
    var attempts = 0
    while true {
        do {
            return try UDPSocket(bindingTo: .loopbackV4(port: UInt16.random(in: 20_000..<32_000)))
        } catch {
            attempts += 1
            if error.errno != .addressInUse || attempts == 100 { throw error }
        }
    }
}
