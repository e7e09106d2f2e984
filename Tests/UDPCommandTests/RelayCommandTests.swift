import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

/// `udp relay` between a test socket acting as the server and test sockets acting as clients, 127.0.0.1 only.
@Suite("udp relay")
struct RelayCommandTests {
    /// A socket with a receive timeout, so no test waits for ever.
    func socket() throws -> UDPSocket {
        let socket = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        try socket.setReceiveTimeout(.seconds(3))
        return socket
    }

    func relay(to server: borrowing UDPSocket, _ flags: String...) throws -> (Spawned, SocketAddress) {
        let process = try Spawned(
            [udpBinary, "relay", "--listen", "127.0.0.1:0", "--to", "\(try server.localAddress)"] + flags
        )
        return (process, .loopbackV4(port: try process.listeningPort()))
    }

    @Test("forwards both ways, each client through its own mapping, and counts it all")
    func forwardsBothWays() throws {
        let server = try socket()
        let (relay, address) = try relay(to: server)
        let alice = try socket()
        let bob = try socket()
        try alice.send(Array("from alice".utf8), to: address)
        try bob.send(Array("from bob".utf8), to: address)
        var upstreams: [String: SocketAddress] = [:]
        for _ in 0..<2 {
            let request = try server.receive()
            upstreams[String(decoding: request.payload, as: UTF8.self)] = request.sender
        }
        #expect(upstreams.count == 2 && upstreams["from alice"] != upstreams["from bob"])
        try server.send(Array("to alice".utf8), to: upstreams["from alice"]!)
        try server.send(Array("to bob".utf8), to: upstreams["from bob"]!)
        #expect(try alice.receive().payload == Array("to alice".utf8))
        #expect(try bob.receive().payload == Array("to bob".utf8))
        relay.signal(SIGINT)
        let result = relay.wait(timeout: .seconds(5))
        #expect(result.status == 0)
        #expect(result.stderr.contains("client->server: received 2, forwarded 2, dropped 0"))
        #expect(result.stderr.contains("server->client: received 2, forwarded 2, dropped 0"))
        #expect(result.stderr.contains("clients: 2 active"))
    }

    @Test("--loss 100% loses everything and says so")
    func totalLoss() throws {
        let server = try socket()
        let (relay, address) = try relay(to: server, "--loss-up", "100%")
        let client = try socket()
        for _ in 0..<5 { try client.send(Array("lost".utf8), to: address) }
        #expect(try server.receive(timeout: .milliseconds(300)) == nil)
        relay.signal(SIGTERM)
        #expect(relay.wait(timeout: .seconds(5)).stderr.contains("client->server: received 5, forwarded 0, dropped 5"))
    }

    @Test("--seed makes the same datagrams meet the same fate")
    func reproducibleLoss() throws {
        func survivors(seed: String) throws -> [Int] {
            let server = try socket()
            let (relay, address) = try relay(to: server, "--loss", "0.5", "--seed", seed)
            let client = try socket()
            for index in 0..<40 {
                try client.send([UInt8(index)], to: address)
                _ = try client.receive(timeout: .milliseconds(2))  // pace the datagrams a little
            }
            var arrived: [Int] = []
            while let datagram = try server.receive(timeout: .milliseconds(300)) {
                arrived.append(Int(datagram.payload[0]))
            }
            relay.signal(SIGTERM)
            relay.wait()
            return arrived
        }
        let first = try survivors(seed: "42")
        #expect(first.count > 5 && first.count < 35, "about half of 40 should survive, got \(first.count)")
        #expect(try survivors(seed: "42") == first)
    }

    @Test("--duplicate-down 1 delivers every reply twice; --delay holds each direction back")
    func duplicateAndDelay() throws {
        let server = try socket()
        let (relay, address) = try relay(to: server, "--duplicate-down", "1", "--delay", "40")
        let client = try socket()
        let start = ContinuousClock.now
        try client.send(Array("ping".utf8), to: address)
        let request = try server.receive()
        #expect(ContinuousClock.now - start >= .milliseconds(40))
        try server.send(Array("pong".utf8), to: request.sender)
        #expect(try client.receive().payload == Array("pong".utf8))
        #expect(ContinuousClock.now - start >= .milliseconds(80))
        #expect(try client.receive().payload == Array("pong".utf8))
        #expect(try client.receive(timeout: .milliseconds(100)) == nil)
        relay.signal(SIGTERM)
        #expect(relay.wait().stderr.contains("duplicated 1"))
    }

    @Test("--reorder-up 1 swaps each datagram with the next")
    func reorders() throws {
        let server = try socket()
        let (relay, address) = try relay(to: server, "--reorder-up", "100%")
        let client = try socket()
        for index in 1...4 { try client.send([UInt8(index)], to: address) }
        var order: [UInt8] = []
        for _ in 1...4 { order.append(try server.receive().payload[0]) }
        #expect(order == [2, 1, 4, 3])
        relay.signal(SIGTERM)
        #expect(relay.wait().stderr.contains("reordered 2"))
    }

    @Test("--rate spaces datagrams out")
    func rateLimit() throws {
        let server = try socket()
        let (relay, address) = try relay(to: server, "--rate-up", "50")
        let client = try socket()
        for index in 0..<6 { try client.send([UInt8(index)], to: address) }
        let start = ContinuousClock.now
        for index in 0..<6 { #expect(try server.receive().payload == [UInt8(index)]) }
        #expect(ContinuousClock.now - start >= .milliseconds(80), "6 datagrams at 50/s take 100 ms")
        relay.signal(SIGTERM)
        relay.wait()
    }

    @Test("--rate 10 with 200 datagrams at once: one second's worth leaves, the rest is dropped over rate")
    func rateBacklogIsBounded() throws {
        let server = try socket()
        let (relay, address) = try relay(to: server, "--rate", "10")
        let client = try socket()
        // In bursts of 20, so the relay's receive queue (not the rate) never drops any.
        for burst in 0..<10 {
            for index in 0..<20 { try client.send([UInt8(burst), UInt8(index)], to: address) }
            usleep(1000)
        }
        var arrived = 0
        while try server.receive(timeout: .milliseconds(400)) != nil { arrived += 1 }
        relay.signal(SIGINT)
        let result = relay.wait(timeout: .seconds(5))
        #expect(result.status == 0)
        let up = RelaySummary(result.stderr).up
        #expect(up["received"] == 200, "stderr: \(result.stderr)")
        // A slot every 100 ms, none more than a second away: the first datagram's and ten more.
        #expect((10...12).contains(up["forwarded", default: 0]), "stderr: \(result.stderr)")
        #expect(up["forwarded"] == arrived)
        #expect(up["over rate", default: 0] >= 188, "stderr: \(result.stderr)")
        #expect(up["in flight"] == 0)
        #expect(RelaySummary.addsUp(up), "stderr: \(result.stderr)")
    }

    @Test("more sources than descriptors (ulimit -n 64): the relay evicts, goes on forwarding, and counts it all")
    func floodOfSources() throws {
        let server = try socket()
        let script = "ulimit -n 64 && exec \"$0\" \"$@\""
        let relay = try Spawned(
            [
                "/bin/bash", "-c", script, udpBinary, "relay", "--listen", "127.0.0.1:0", "--to",
                "\(try server.localAddress)",
            ]
        )
        let address = SocketAddress.loopbackV4(port: try relay.listeningPort())
        // 100 sources, all open at once so each has a port of its own; kept as descriptors, since an array
        // cannot hold the non-copyable socket.
        var sources: [CInt] = []
        defer {
            for descriptor in sources { close(descriptor) }
        }
        for index in 0..<100 {
            let source = try UDPSocket(bindingTo: .loopbackV4(port: 0))
            try source.send([UInt8(index)], to: address)
            sources.append(source.takeDescriptor())
            if index % 20 == 19 { usleep(1000) }  // in bursts, so the relay's receive queue never overflows
        }
        var arrived = 0
        while try server.receive(timeout: .milliseconds(300)) != nil { arrived += 1 }
        // Afterwards a client still gets through, both ways.
        let client = try socket()
        try client.send(Array("after the flood".utf8), to: address)
        guard let request = try server.receive(timeout: .seconds(2)) else {
            relay.signal(SIGINT)
            Issue.record("nothing forwarded after the flood; relay: \(relay.wait().stderr)")
            return
        }
        #expect(request.payload == Array("after the flood".utf8))
        try server.send(Array("still here".utf8), to: request.sender)
        #expect(try client.receive().payload == Array("still here".utf8))
        relay.signal(SIGINT)
        let result = relay.wait(timeout: .seconds(5))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("relay: at most 48 clients: the descriptor limit is 64"))
        let summary = RelaySummary(result.stderr)
        #expect(summary.up["received"] == 101, "stderr: \(result.stderr)")
        #expect(summary.up["forwarded"] == arrived + 1)
        // Each of the 101 clients got a mapping, evicted later or still there; at most 48 at once. (Fewer
        // when the relay inherited descriptors from the test runner: then sockets ran out first, and the
        // relay evicted on EMFILE.)
        let clients = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("clients: ") })
        let numbers = clients.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count == 3 && numbers[0] <= 48 && numbers[1] == 0, "\(clients)")
        #expect(numbers.count == 3 && numbers[0] + numbers[2] + summary.up["no upstream socket", default: 0] == 101)
        #expect(RelaySummary.addsUp(summary.up) && RelaySummary.addsUp(summary.down), "stderr: \(result.stderr)")
        #expect(summary.down["forwarded"] == 1)
    }

    @Test("--help says what bounds the clients and the rate queue, and how the seed splits")
    func helpExplainsTheBounds() throws {
        let result = try runUDP("relay", "--help")
        #expect(result.status == 0)
        let text = result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")  // unwrapped
        for fragment in ["ulimit -n", "no upstream socket", "over rate", "a generator of its own", "add up"] {
            #expect(text.contains(fragment), "missing \(fragment)")
        }
    }

    @Test(
        arguments: [
            (["--loss", "120%"], "--loss"),
            (["--delay", "-5"], "--delay"),
            (["--rate", "-1"], "--rate"),
        ] as [([String], String)]
    )
    func badInput(flags: [String], fragment: String) throws {
        let process = try Spawned(
            [udpBinary, "relay", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9"] + flags
        )
        process.closeStandardInput()
        expectOneLineError(process.wait(), containing: fragment)
    }

    @Test("--framed through 50% reply loss: every request answered, each computed once (the rest from the cache)")
    func framedRetriesThroughLoss() throws {
        let (server, relay, relayPort) = try Spawned.framedEchoBehindRelay("--loss-down", "50%", "--seed", "3")
        for index in 1...8 {
            let result = try runUDP(
                "send",
                "127.0.0.1:\(relayPort)",
                "m\(index)",
                "--framed",
                "--timeout",
                "0.05",
                "--backoff",
                "1",
                "--retries",
                "12"
            )
            #expect(result.status == 0)
            #expect(result.stdout == "ack: m\(index)\n")
        }
        relay.signal(SIGTERM)
        relay.wait()
        server.signal(SIGINT)
        let stderr = server.wait(timeout: .seconds(5)).stderr
        #expect(stderr.contains("handled 8, from cache"), "stderr: \(stderr)")
    }
}
