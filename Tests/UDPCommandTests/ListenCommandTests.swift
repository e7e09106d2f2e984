import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

@Suite("udp listen")
struct ListenCommandTests {
    @Test(
        "three peers are counted separately; SIGINT prints the summary and exits 0, even when started with SIGINT ignored"
    )
    func countsPeers() throws {
        // A script that starts a server in the background leaves SIGINT ignored; `udp` must catch it anyway.
        let server = try Spawned([
            "/bin/sh", "-c", "trap '' INT; exec \"$0\" listen --host 127.0.0.1 --port 0", udpBinary,
        ])
        let port = try server.listeningPort()
        let first = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let second = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let third = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        var expected: [String] = []
        func sendRounds(_ client: borrowing UDPSocket, _ name: String, _ rounds: Int) throws {
            for round in 1...rounds {
                try client.send(Array("\(name)-\(round)".utf8), to: .loopbackV4(port: port))
                expected.append("from \(try client.localAddress) #\(round): \(name)-\(round)")
            }
        }
        try sendRounds(first, "c0", 1)
        try sendRounds(second, "c1", 2)
        try sendRounds(third, "c2", 3)
        var lines: [String] = []
        for _ in expected { lines.append(try #require(server.readLine())) }
        #expect(lines == expected)
        server.signal(SIGINT)
        let result = server.wait(timeout: .seconds(5))
        #expect(result.status == 0)
        #expect(result.stdout.contains("--- 6 datagrams from 3 peers ---"))
        #expect(result.stdout.contains("\(try third.localAddress): 3 datagrams, 12 bytes"))
    }

    @Test("a datagram longer than --buffer is shown truncated, with its real length")
    func truncation() throws {
        let server = try Spawned(udp: "listen", "--host", "127.0.0.1", "--port", "0", "--buffer", "4")
        let port = try server.listeningPort()
        let client = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try client.send(Array("hello world".utf8), to: .loopbackV4(port: port))
        #expect(server.readLine() == "from \(try client.localAddress) #1 (11 bytes, truncated to 4): hell")
    }

    @Test("--hex and escaped payloads never put control bytes on the terminal")
    func binaryPayloads() throws {
        let server = try Spawned(udp: "listen", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let client = try UDPSocket(family: .inet)
        try client.send([0x1B, 0x5D, 0x30, 0x3B, 0x07, 0x0A], to: .loopbackV4(port: port))
        let line = try #require(server.readLine())
        #expect(line.hasSuffix(": \\x1b]0;\\x07\\n"))
        let hex = try Spawned(udp: "listen", "--host", "127.0.0.1", "--port", "0", "--hex")
        let hexPort = try hex.listeningPort()
        try client.send([0xDE, 0xAD], to: .loopbackV4(port: hexPort))
        #expect(try #require(hex.readLine()).hasSuffix(": dead"))
    }

    @Test("the peer table is bounded: more sources than --max-peers are folded into 'other peers'")
    func boundedPeers() throws {
        let server = try Spawned(udp: "listen", "--host", "127.0.0.1", "--port", "0", "--max-peers", "8")
        let port = try server.listeningPort()
        // Twenty source ports, all different: each socket stays open to the end, so the kernel cannot hand a
        // closed one's port to the next.
        var descriptors: [CInt] = []
        defer { for descriptor in descriptors { close(descriptor) } }
        for _ in 0..<20 {
            let client = try UDPSocket(family: .inet)
            try client.send(Array("x".utf8), to: .loopbackV4(port: port))
            descriptors.append(client.takeDescriptor())
            _ = try #require(server.readLine())
        }
        server.signal(SIGTERM)
        let result = server.wait(timeout: .seconds(5))
        #expect(result.status == 0)
        #expect(result.stdout.contains("--- 20 datagrams from 20 peers ---"))
        let peerLines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("127.0.0.1:") }
        #expect(peerLines.count <= 8)
        #expect(result.stdout.contains("other peers ("))
    }
}
