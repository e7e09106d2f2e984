#if Sealing
import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

/// Whether this build of udp has sealed datagrams: it does, with the package trait `Sealing` (a build without
/// has SealingLeftOutCommandTests.swift instead of this file).
let sealingIsBuiltIn = true

/// Sealed datagrams from the command line: `udp keygen` and `--key-file`.
@Suite("keys")
struct KeyCommandTests {
    /// A fresh key file, mode 600, removed by the caller.
    func makeKey(id: Int = 1) throws -> String {
        let path = "/tmp/udp-key-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).key"
        let result = try runUDP("keygen", "--output", path, "--id", "\(id)")
        #expect(result.status == 0)
        return path
    }

    @Test("keygen writes a mode-600 file and refuses to overwrite one")
    func keygen() throws {
        let path = try makeKey()
        defer { unlink(path) }
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        expectOneLineError(try runUDP("keygen", "--output", path), containing: "cannot create")
        let printed = try runUDP("keygen")
        #expect(printed.stdout.contains("chacha20-poly1305: "))
    }

    @Test("a sealed exchange works; a wrong key or none gets no reply and shows in the server's counters")
    func sealedEcho() throws {
        let key = try makeKey()
        let other = try makeKey()
        defer {
            unlink(key)
            unlink(other)
        }
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--key-file", key, "--stats")
        let port = try server.listeningPort()
        let good = try runUDP("send", "127.0.0.1:\(port)", "sealed", "--key-file", key)
        #expect(good.status == 0)
        #expect(good.stdout == "sealed\n")
        let wrong = try runUDP("send", "127.0.0.1:\(port)", "forged", "--key-file", other, "--timeout", "0.3")
        #expect(wrong.status == 1)
        #expect(wrong.stderr == "no reply within 0.3 seconds\n")
        let plain = try runUDP("send", "127.0.0.1:\(port)", "plain", "--timeout", "0.3")
        #expect(plain.status == 1)
        server.signal(SIGINT)
        let result = server.wait(timeout: .seconds(5))
        #expect(result.stderr.contains("received 3, replied 1, failed 0, rejected by authentication 2"))
    }

    @Test("listen --key-file shows what opens and names what does not")
    func sealedListen() throws {
        let key = try makeKey()
        defer { unlink(key) }
        let listener = try Spawned(udp: "listen", "--host", "127.0.0.1", "--port", "0", "--key-file", key)
        let port = try listener.listeningPort()
        #expect(try runUDP("send", "127.0.0.1:\(port)", "secret", "--key-file", key, "--no-reply").status == 0)
        #expect(try #require(listener.readLine()).hasSuffix("#1: secret"))
        #expect(try runUDP("send", "127.0.0.1:\(port)", "plain", "--no-reply").status == 0)
        #expect(try #require(listener.readLine()).hasSuffix(": rejected (malformed)"))
        listener.signal(SIGINT)
        #expect(listener.wait(timeout: .seconds(5)).stdout.contains("rejected 1:"))
    }

    @Test("a key file others can read is refused, as ssh does")
    func openKeyFileRefused() throws {
        let key = try makeKey()
        defer { unlink(key) }
        chmod(key, 0o644)
        expectOneLineError(try runUDP("send", "127.0.0.1:9", "x", "--key-file", key), containing: "chmod 600")
        expectOneLineError(
            try runUDP("send", "127.0.0.1:9", "x", "--key-file", "/nonexistent/key"),
            containing: "cannot read"
        )
    }

    @Test("a captured sealed datagram replayed from many ports is answered once, across all workers")
    func replayAcrossWorkers() throws {
        let key = try makeKey()
        defer { unlink(key) }
        // Capture one sealed datagram as an attacker on the path would.
        let trap = try UDPSocket(bindingTo: SocketAddress(parsing: "127.0.0.1:0"))
        let trapPort = try trap.localAddress.port
        #expect(try runUDP("send", "127.0.0.1:\(trapPort)", "once", "--key-file", key, "--no-reply").status == 0)
        let captured = try #require(try trap.receive(maximumSize: 2048, timeout: .seconds(5))).payload

        let server = try Spawned(
            loopbackServer: "echo",
            "--key-file",
            key,
            "--workers",
            "4",
            "--stats"
        )
        let target = try SocketAddress(parsing: "127.0.0.1:\(try server.listeningPort())")
        // Twenty source ports: the kernel spreads them over the four workers' sockets.
        var descriptors: [CInt] = []
        for _ in 0..<20 {
            let socket = try UDPSocket(bindingTo: SocketAddress(parsing: "127.0.0.1:0"))
            try socket.send(captured, to: target)
            descriptors.append(socket.takeDescriptor())
        }
        // Each worker prints its counters every second (--stats): once they add up to the 20 datagrams, every
        // answer there is has been sent, and loopback has queued it on its socket.
        var received = [Int](repeating: 0, count: 4)
        let counted = server.readErrorLine { line in
            guard line.hasPrefix("worker "), let worker = Int(line.dropFirst(7).prefix { $0.isNumber }),
                worker < 4, let range = line.range(of: "received ")
            else { return false }
            received[worker] = Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return received.reduce(0, +) == 20
        }
        #expect(counted != nil)
        var replies = 0
        for descriptor in descriptors {
            let socket = try UDPSocket(adopting: descriptor)
            if try socket.receive(maximumSize: 2048, timeout: .milliseconds(1)) != nil { replies += 1 }
        }
        #expect(replies == 1)
        server.signal(SIGINT)
        let result = server.wait(timeout: .seconds(5))
        #expect(result.stderr.contains("received 20, replied 1, failed 0, rejected by authentication 19"))
    }

    @Test("bench --key-file loads a sealed echo server; a plain echo that reflects the sealed probes answers nothing")
    func sealedBench() throws {
        let key = try makeKey()
        defer { unlink(key) }
        let sealed = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--key-file", key)
        let sealedPort = try sealed.listeningPort()
        let result = try runUDP(
            "bench",
            "127.0.0.1:\(sealedPort)",
            "--duration",
            "0.3",
            "--key-file",
            key,
            "--json",
            "--window",
            "16"
        )
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"lost\": 0,") && result.stdout.contains("\"foreign\": 0,"))
        #expect(!result.stdout.contains("\"received\": 0,"))
        // An RFC 862 echo sends each sealed probe back unchanged: it opens with the key, but it is a request,
        // not a reply, so it counts as foreign and nothing as received.
        let plain = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        let plainPort = try plain.listeningPort()
        let reflected = try runUDP(
            "bench",
            "127.0.0.1:\(plainPort)",
            "--duration",
            "0.2",
            "--key-file",
            key,
            "--window",
            "4"
        )
        #expect(reflected.status == 1)
        #expect(reflected.stdout.contains("received 0,") && reflected.stdout.contains("foreign"))
        let send = try runUDP("send", "127.0.0.1:\(plainPort)", "mine", "--key-file", key, "--timeout", "0.2")
        #expect(send.status == 1)
    }

    @Test("ping --key-file measures a sealed echo server; without the key every probe is lost")
    func sealedPing() throws {
        let key = try makeKey()
        defer { unlink(key) }
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--key-file", key)
        let port = try server.listeningPort()
        let sealed = try runUDP(
            "ping",
            "127.0.0.1:\(port)",
            "--count",
            "3",
            "--interval",
            "0.01",
            "--timeout",
            "0.5",
            "--key-file",
            key
        )
        #expect(sealed.status == 0)
        #expect(sealed.stdout.contains("3 packets transmitted, 3 received, 0% packet loss"))
        let plain = try runUDP("ping", "127.0.0.1:\(port)", "--count", "2", "--interval", "0.01", "--timeout", "0.2")
        #expect(plain.status == 1)
        #expect(plain.stdout.contains("2 packets transmitted, 0 received, 100% packet loss"))
    }
}
#endif
