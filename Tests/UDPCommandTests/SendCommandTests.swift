import Foundation
import Testing
import UDP

#if canImport(Glibc)
import Glibc
#endif

@Suite("udp send")
struct SendCommandTests {
    /// A server socket on the test side, with a timeout on every receive.
    func silentServer(_ family: AddressFamily = .inet) throws -> UDPSocket {
        let socket = try UDPSocket(bindingTo: .any(family, port: 0))
        try socket.setReceiveTimeout(.seconds(5))
        return socket
    }

    @Test("prints the reply payload and exits 0")
    func replyPrinted() throws {
        let server = try silentServer()
        let port = try server.localAddress.port
        let client = try Spawned(udp: "send", "127.0.0.1:\(port)", "hello")
        let request = try server.receive()
        #expect(request.payload == Array("hello".utf8))
        try server.send(Array("ack: hello".utf8), to: request.sender)
        let result = client.wait()
        #expect(result.status == 0)
        #expect(result.stdout == "ack: hello\n")
    }

    @Test(
        "a reply that could rewrite the terminal line is escaped",
        arguments: [
            ("AAAA\rBB", "AAAA\\rBB"), ("x\u{202E}y", "x\\xe2\\x80\\xaey"),
            ("line one\r\nline two", "line one\r\nline two"),
        ]
    )
    func hostileReplyEscaped(reply: String, shown: String) throws {
        let server = try silentServer()
        let port = try server.localAddress.port
        let client = try Spawned(udp: "send", "127.0.0.1:\(port)", "hello")
        let request = try server.receive()
        try server.send(Array(reply.utf8), to: request.sender)
        let result = client.wait()
        #expect(result.status == 0)
        #expect(result.stdout == shown + "\n")
    }

    @Test("no reply: 'no reply within N seconds' on stderr, exit 1, after the timeout")
    func noReply() throws {
        let server = try silentServer()
        let port = try server.localAddress.port
        let start = ContinuousClock.now
        let result = try runUDP("send", "127.0.0.1:\(port)", "anyone?", "--timeout", "0.3")
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        #expect(result.status == 1)
        #expect(result.stderr == "no reply within 0.3 seconds\n")
        #expect(try server.receive().payload == Array("anyone?".utf8))
    }

    @Test("--retries resends with backoff: N+1 datagrams arrive, then it gives up")
    func retriesThenGivesUp() throws {
        let server = try silentServer()
        let port = try server.localAddress.port
        let result = try runUDP(
            "send",
            "127.0.0.1:\(port)",
            "again",
            "--timeout",
            "0.1",
            "--retries",
            "2",
            "--backoff",
            "2"
        )
        #expect(result.status == 1)
        #expect(result.stderr == "no reply within 0.7 seconds (3 attempts)\n")
        try server.setReceiveTimeout(.milliseconds(200))
        var arrived = 0
        while (try? server.receive()) != nil { arrived += 1 }
        #expect(arrived == 3)

        // 0.3 + 0.6 + 1.2 is 2.0999… in binary: the total is rounded, not cut, when printed.
        let odd = try runUDP("send", "127.0.0.1:\(port)", "x", "--timeout", "0.3", "--retries", "2")
        #expect(odd.stderr.hasPrefix("no reply within 2.1 seconds"))
    }

    @Test("--retries succeeds when a later attempt is answered")
    func retrySucceeds() throws {
        let server = try silentServer()
        let port = try server.localAddress.port
        let client = try Spawned(udp: "send", "127.0.0.1:\(port)", "q", "--timeout", "0.2", "--retries", "3")
        _ = try server.receive()  // the first attempt goes unanswered, as if the reply were lost
        let second = try server.receive()
        try server.send(Array("answer".utf8), to: second.sender)
        let result = client.wait()
        #expect(result.status == 0)
        #expect(result.stdout == "answer\n")
    }

    @Test("without MESSAGE, each line of stdin is one datagram")
    func stdinLines() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0", "--prefix", "> ")
        let port = try server.listeningPort()
        let result = try runUDP("send", "127.0.0.1:\(port)", stdin: "one\ntwo\r\nthree")
        #expect(result.status == 0)
        #expect(result.stdout == "> one\n> two\n> three\n")
    }

    @Test("a binary reply is escaped, and --hex shows hex")
    func binaryReply() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let escaped = try runUDP("send", "127.0.0.1:\(port)", "\u{1B}[2Jbin")
        #expect(escaped.stdout == "\\x1b[2Jbin\n")
        let hex = try runUDP("send", "127.0.0.1:\(port)", "AB", "--hex")
        #expect(hex.stdout == "4142\n")
    }

    @Test("--file sends the file's bytes as one datagram, newlines and zeros included; --hex-input sends hex")
    func binaryPayloads() throws {
        let server = try Spawned(udp: "echo", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("udp-send-\(getpid()).bin").path
        defer { unlink(path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data([0x00, 0x0A, 0xFF, 0x0D, 0x0A, 0x41])))
        let file = try runUDP("send", "127.0.0.1:\(port)", "--file", path, "--hex")
        #expect(file.status == 0)
        #expect(file.stdout == "000aff0d0a41\n")
        let typed = try runUDP("send", "127.0.0.1:\(port)", "--hex-input", "00 0a FF", "--hex")
        #expect(typed.stdout == "000aff\n")
        let lines = try runUDP("send", "127.0.0.1:\(port)", "--hex-input", "--hex", stdin: "0102\nff ee\n")
        #expect(lines.stdout == "0102\nffee\n")
    }

    @Test(
        "bad binary input is one line on stderr",
        arguments: [
            (["--hex-input", "abc"], "not hex digits in pairs", 64), (["--hex-input", "zz"], "not hex digits", 64),
            (["--file", "/nonexistent/udp-test"], "no such file", 1),
            (["--file", "/dev/null", "hi"], "leave out MESSAGE", 64),
        ] as [([String], String, CInt)]
    )
    func badBinaryInput(arguments: [String], fragment: String, status: CInt) throws {
        let server = try silentServer()
        let result = try runUDPArray(
            ["send", "127.0.0.1:\(try server.localAddress.port)", "--timeout", "0.2"] + arguments
        )
        expectOneLineError(result, containing: fragment)
        #expect(result.status == status)
    }

    @Test("a file larger than a datagram is refused before anything is sent")
    func fileTooLarge() throws {
        let server = try silentServer()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("udp-big-\(getpid()).bin").path
        defer { unlink(path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 70_000)))
        let result = try runUDPArray(["send", "127.0.0.1:\(try server.localAddress.port)", "--file", path])
        expectOneLineError(
            result,
            containing: "\(path) is 70000 bytes, larger than one datagram can carry (65527 bytes at most)"
        )
        #expect(try server.receive(timeout: .milliseconds(200)) == nil)
    }

    @Test("a closed port is reported as connection refused at once")
    func connectionRefused() throws {
        let port = try UDPSocket(bindingTo: .loopbackV4(port: 0)).localAddress.port  // closed again at once
        let start = ContinuousClock.now
        let result = try runUDP("send", "127.0.0.1:\(port)", "hi", "--timeout", "5")
        #expect(ContinuousClock.now - start < .seconds(3))
        expectOneLineError(result, containing: "connection refused")
    }

    @Test("IPv6 literal and -6 resolution of localhost")
    func ipv6() throws {
        let server = try Spawned(udp: "echo", "--host", "::1", "--port", "0")
        let port = try server.listeningPort()
        #expect(try runUDP("send", "[::1]:\(port)", "six").stdout == "six\n")
        // Only where /etc/hosts names ::1 localhost: otherwise an IPv6 lookup of localhost falls through to
        // DNS, and no test may send a query off the machine.
        if hostsFileMapsLocalhostToIPv6 {
            #expect(try runUDP("send", "-6", "localhost:\(port)", "six").stdout == "six\n")
        }
    }

    @Test("--no-reply sends and exits at once; --bind chooses the source")
    func noReplyAndBind() throws {
        let server = try silentServer()
        let port = try server.localAddress.port
        let source = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let sourcePort = try source.localAddress.port
        try source.close()
        let result = try runUDP("send", "127.0.0.1:\(port)", "fire", "--no-reply", "--bind", "127.0.0.1:\(sourcePort)")
        #expect(result.status == 0)
        let datagram = try server.receive()
        #expect(datagram.sender == .loopbackV4(port: sourcePort))
    }

    @Test("--deadline caps the retries; a huge backoff neither overflows nor waits for ever")
    func deadline() throws {
        let server = try silentServer()
        let port = try server.localAddress.port
        let start = ContinuousClock.now
        let result = try runUDP(
            "send",
            "127.0.0.1:\(port)",
            "x",
            "--timeout",
            "0.1",
            "--retries",
            "10",
            "--backoff",
            "100",
            "--deadline",
            "0.3"
        )
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(result.status == 1)
        #expect(result.stderr == "no reply within 0.3 seconds (2 attempts)\n")
    }
}

/// Whether /etc/hosts has a `::1 … localhost` line.
let hostsFileMapsLocalhostToIPv6: Bool = {
    guard let file = fopen("/etc/hosts", "r") else { return false }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 1024)
    while fgets(&line, CInt(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = text.prefix { $0 != "#" }.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        if fields.first == "::1" && fields.dropFirst().contains("localhost") { return true }
    }
    return false
}()
