import Foundation
import Testing
import UDP
import UDPDNS
import UDPNTP

#if canImport(Glibc)
import Glibc
#endif

/// What a hostile peer puts in a string: a screen clear and a window title (ESC sequences), CSI as a C1
/// character (U+009B, valid UTF-8) and as a lone byte (invalid UTF-8), DEL, a bell, a carriage return that
/// would let the rest overwrite the line, and a right-to-left override.
let hostileBytes: [UInt8] =
    Array("a\u{1B}[2J\u{1B}]0;owned\u{07}b".utf8) + [0xC2, 0x9B, 0x33, 0x31, 0x6D, 0x9B, 0x7F, 0xFF, 0x0D]
    + Array("c\u{202E}d".utf8)

/// Every way `bytes` could drive a terminal, named: a C0 byte other than a newline (and tab when
/// `allowingTabs`, for dig's layout), DEL, a C1 character, a line or paragraph separator, a bidirectional
/// override or isolate, or invalid UTF-8. Empty when the output is safe to show.
func terminalHazards(_ bytes: [UInt8], allowingTabs: Bool = false) -> [String] {
    var hazards: [String] = []
    if String(validating: bytes, as: UTF8.self) == nil { hazards.append("invalid UTF-8") }
    for (offset, byte) in bytes.enumerated() {
        if (byte < 0x20 && byte != 0x0A && !(allowingTabs && byte == 0x09)) || byte == 0x7F {
            hazards.append(String(format: "byte 0x%02x at %d", byte, offset))
        }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    for scalar in text.unicodeScalars {
        let value = scalar.value
        if (0x80...0x9F).contains(value) || value == 0x2028 || value == 0x2029 || (0x202A...0x202E).contains(value)
            || (0x2066...0x2069).contains(value)
        {
            hazards.append(String(format: "U+%04X", value))
        }
    }
    return hazards
}

/// Reads stdout lines until one satisfies `predicate`, within `timeout`; every line read is checked for
/// terminal hazards on the way.
func readCheckedLine(
    _ process: Spawned,
    timeout: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation,
    where predicate: (String) -> Bool
) -> String? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline, let bytes = process.readLineBytes(timeout: deadline - ContinuousClock.now) {
        #expect(terminalHazards(bytes).isEmpty, "\(terminalHazards(bytes)) in \(bytes)", sourceLocation: sourceLocation)
        let line = String(decoding: bytes, as: UTF8.self)
        if predicate(line) { return line }
    }
    return nil
}

/// What the network sends to `listen`, `send`, `echo --verbose`, `dns` and `ntp` on loopback reaches stdout
/// escaped, in text and in JSON: checked byte by byte.
@Suite("network text on loopback")
struct NetworkTextTests {
    @Test("udp listen shows a hostile payload escaped, every byte of it")
    func listen() throws {
        let server = try Spawned(udp: "listen", "--host", "127.0.0.1", "--port", "0")
        let port = try server.listeningPort()
        let client = try UDPSocket(family: .inet)
        try client.send(hostileBytes, to: .loopbackV4(port: port))
        try client.send(Array("plain text, as it is".utf8), to: .loopbackV4(port: port))
        let hostile = try #require(server.readLineBytes())
        #expect(terminalHazards(hostile).isEmpty, "\(terminalHazards(hostile))")
        #expect(
            String(decoding: hostile, as: UTF8.self).hasSuffix(
                #": a\x1b[2J\x1b]0;owned\x07b\xc2\x9b31m\x9b\x7f\xff\rc\xe2\x80\xaed"#
            )
        )
        #expect(server.readLine()?.hasSuffix(": plain text, as it is") == true)
        server.signal(SIGINT)
        #expect(terminalHazards(server.waitBytes().stdout).isEmpty)
    }

    @Test("udp echo --verbose shows what it reflects escaped")
    func echoVerbose() throws {
        let server = try Spawned(loopbackServer: "echo", "--verbose")
        let port = try server.listeningPort()
        let client = try UDPSocket(family: .inet)
        try client.send(hostileBytes, to: .loopbackV4(port: port))
        #expect(try client.receive(timeout: .seconds(5))?.payload == hostileBytes)
        #expect(readCheckedLine(server) { $0.contains(#"\x1b[2J"#) } != nil)
        server.signal(SIGINT)
        #expect(terminalHazards(server.waitBytes().stdout).isEmpty)
    }

    @Test("udp send prints a hostile reply escaped, framed or not", arguments: [false, true])
    func send(framed: Bool) throws {
        let server = try Spawned(
            [udpBinary, "echo", "--host", "127.0.0.1", "--port", "0"] + (framed ? ["--framed"] : [])
        )
        let port = try server.listeningPort()
        let hex = hostileBytes.map { String(format: "%02x", $0) }.joined()
        let sender = try Spawned(
            [udpBinary, "send", "127.0.0.1:\(port)", "--hex-input", hex] + (framed ? ["--framed"] : [])
        )
        sender.closeStandardInput()
        let result = sender.waitBytes()
        #expect(result.status == 0)
        #expect(terminalHazards(result.stdout).isEmpty, "\(terminalHazards(result.stdout))")
        #expect(String(decoding: result.stdout, as: UTF8.self).contains(#"\x1b]0;owned\x07"#))
        // A printable reply of several lines still comes out as it is.
        let lines = try Spawned(
            [udpBinary, "send", "127.0.0.1:\(port)", "--hex-input", "6f6e650a74776f"] + (framed ? ["--framed"] : [])
        )
        lines.closeStandardInput()
        #expect(lines.wait().stdout == "one\ntwo\n")
    }

    @Test("udp dns shows hostile names and TXT escaped, in text and JSON", arguments: [false, true])
    func dns(json: Bool) throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try server.localAddress.port
        let dns = try Spawned(
            [udpBinary, "dns", "hostile.test", "TXT", "@127.0.0.1:\(port)", "--tries", "1"] + (json ? ["--json"] : [])
        )
        dns.closeStandardInput()
        let datagram = try #require(try server.receive(timeout: .seconds(5)), "no query came")
        let query = try DNSMessage(decoding: datagram.payload)
        var reply = DNSMessage(id: query.id, flags: 0x8580, questions: query.questions)
        let evil = try DNSName(labels: [hostileBytes, Array("test".utf8)])
        reply.answers = [
            DNSRecord(name: query.questions[0].name, ttl: 300, data: .cname(evil)),
            DNSRecord(name: evil, ttl: 300, data: .txt([hostileBytes, Array("k=v".utf8)])),
        ]
        try server.send(try reply.encoded(), to: datagram.sender)
        let result = dns.waitBytes()
        #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
        // dig's layout puts tabs between a record's fields: our own, and harmless.
        #expect(terminalHazards(result.stdout, allowingTabs: true).isEmpty, "\(terminalHazards(result.stdout))")
        #expect(String(decoding: result.stdout, as: UTF8.self).contains(#"a\027[2J\027]0;owned\007b"#))
    }

    @Test(
        "udp ntp shows a hostile kiss code or refid escaped, in text and JSON",
        arguments: [false, true],
        [UInt8(0), 1]
    )
    func ntp(json: Bool, stratum: UInt8) throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let port = try server.localAddress.port
        let ntp = try Spawned([udpBinary, "ntp", "127.0.0.1:\(port)", "--count", "1"] + (json ? ["--json"] : []))
        ntp.closeStandardInput()
        // ESC [ 2 J as a kiss code (stratum 0), or as the reference ID of a stratum-1 server.
        let datagram = try #require(try server.receive(timeout: .seconds(5)), "no request came")
        let request = try #require(NTPPacket(decoding: datagram.payload))
        let now = NTPTimestamp(WallClockTime.now())
        let reply = NTPPacket(
            mode: .server,
            stratum: stratum,
            rootDispersion: 0x100,
            referenceID: 0x1B5B_324A,
            originTimestamp: request.transmitTimestamp,
            receiveTimestamp: now,
            transmitTimestamp: now
        )
        try server.send(reply.encoded, to: datagram.sender)
        let result = ntp.waitBytes()
        #expect(result.status == (stratum == 0 ? 1 : 0), "\(String(decoding: result.stderr, as: UTF8.self))")
        #expect(terminalHazards(result.stdout).isEmpty, "\(terminalHazards(result.stdout))")
        #expect(terminalHazards(result.stderr).isEmpty, "\(terminalHazards(result.stderr))")
        let shown = stratum == 0 ? "kiss-o'-death 0x1b5b324a" : "refid 27.91.50.74"
        #expect(String(decoding: result.stdout, as: UTF8.self).contains(shown))
    }

    @Test("the console escapes a control character that no caller escaped: here, in a file name from the user")
    func consoleIsTheLastGuard() throws {
        let server = try UDPSocket(bindingTo: .loopbackV4(port: 0))
        let path = "/nonexistent/\u{1B}]0;owned\u{07}\u{9B}2J"
        let result = try Spawned([udpBinary, "send", "127.0.0.1:\(try server.localAddress.port)", "--file", path])
        result.closeStandardInput()
        let output = result.waitBytes()
        #expect(output.status == 1)
        #expect(terminalHazards(output.stderr).isEmpty, "\(terminalHazards(output.stderr))")
        let text = String(decoding: output.stderr, as: UTF8.self)
        #expect(text.hasPrefix(#"udp: /nonexistent/\x1b]0;owned\x07\xc2\x9b2J: "#), "\(text)")
    }
}
