import Foundation
import NamespaceTesting
import Testing
import UDP
import UDPDNS

#if canImport(Glibc)
import Glibc
#endif

/// SSDP and mDNS from a neighbour whose names and headers carry terminal escapes, in a namespace pair the test
/// creates (nothing leaves it): `udp discover` still reports each advertisement and instance, escaped, and its
/// stdout holds no control byte, in text and in JSON. And `--stats` says what each session received.
@Suite("hostile text on the link", .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"))
struct HostileLinkTextTests {
    @Test("an SSDP NOTIFY with escapes in USN, NT, LOCATION and SERVER is reported, escaped", arguments: [false, true])
    func ssdpNotify(json: Bool) throws {
        let hosts = try NamespacePair()
        let discover = try hosts.udp(in: hosts.a, ["discover", "--ssdp", "-4", "--watch"] + (json ? ["--json"] : []))
        let neighbour = try insideNamespace(hosts.b) { try UDPSocket(family: .inet) }
        let esc = "\u{1B}"
        let notify =
            "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
            + "LOCATION: http://\(hosts.addressB)/\(esc)]0;owned\u{07}\r\n"
            + "NT: urn:\(esc)[2J:device\u{9B}31m:1\r\nNTS: ssdp:alive\r\n"
            + "SERVER: Linux\u{202E} UPnP/1.1 \(esc)[31mEvil\u{7F}\r\n"
            + "USN: uuid:\(esc)[2J-1::urn:\(esc)[2J:device\u{9B}31m:1\r\n\r\n"
        // The listener may not have joined yet: send until it reports, a bounded number of times.
        var line: String?
        for _ in 0..<30 where line == nil {
            try neighbour.send(Array(notify.utf8), to: SocketAddress(IPAddress(hosts.addressA)!, port: 1900))
            line = readCheckedLine(discover, timeout: .milliseconds(300)) { _ in true }
        }
        let reported = try #require(line, "the advertisement was never reported")
        if json {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(reported.utf8)) as? [String: Any])
            // JSON keeps the text as sent, in \u escapes a parser reads back.
            #expect(object["usn"] as? String == "uuid:\(esc)[2J-1::urn:\(esc)[2J:device\u{9B}31m:1")
            #expect(object["server"] as? String == "Linux\u{202E} UPnP/1.1 \(esc)[31mEvil\u{7F}")
            #expect(reported.contains(#""location": "http://\#(hosts.addressB)/\u001b]0;owned\u0007""#), "\(reported)")
        } else {
            #expect(reported.hasPrefix(#"+ \#(hosts.vethA) IPv4 ssdp uuid:\x1b[2J-1::urn:\x1b[2J:device\xc2\x9b31m:1"#))
            #expect(reported.contains(#" location http://\#(hosts.addressB)/\x1b]0;owned\x07"#), "\(reported)")
            #expect(reported.hasSuffix(#" server "Linux\\xe2\\x80\\xae UPnP/1.1 \\x1b[31mEvil\\x7f""#), "\(reported)")
        }
        discover.signal(SIGINT)
        let result = discover.waitBytes()
        #expect(result.status == 0)
        #expect(terminalHazards(result.stdout).isEmpty, "\(terminalHazards(result.stdout))")
    }

    @Test(
        "an mDNS instance with escapes in its name and TXT is reported and resolved, escaped",
        arguments: [false, true]
    )
    func mdnsInstance(json: Bool) throws {
        let hosts = try NamespacePair()
        let discover = try hosts.udp(
            in: hosts.a,
            ["discover", "_http._tcp", "-4", "--watch"] + (json ? ["--json"] : [])
        )
        // From B as an on-link responder sends: port 5353, hop limit 255.
        let neighbour = try insideNamespace(hosts.b) { () throws -> UDPSocket in
            let socket = try UDPSocket(family: .inet)
            try socket.setReusePort(true)
            try socket.setReuseAddress(true)
            try socket.bind(to: .any(.inet, port: 5353))
            try socket.setUnicastHops(255)
            return socket
        }
        let type = DNSName("_http._tcp.local")!
        let instance = try type.prepending(hostileBytes)
        let host = DNSName("evil.local")!
        var response = DNSMessage(flags: 0x8400)
        response.answers = [
            DNSRecord(name: type, ttl: 120, data: .ptr(instance)),
            DNSRecord(name: instance, ttl: 120, data: .srv(priority: 0, weight: 0, port: 8080, target: host)),
            DNSRecord(
                name: instance,
                ttl: 120,
                data: .txt([Array("k\u{1B}]0;t\u{07}=v\u{1B}[2J".utf8), Array("bin=".utf8) + [0xFF, 0x9B, 0x7F]])
            ),
            DNSRecord(name: host, ttl: 120, data: .a(IPv4Address(hosts.addressB)!)),
        ]
        let bytes = try response.encoded()
        var line: String?
        for _ in 0..<30 where line == nil {
            try neighbour.send(bytes, to: SocketAddress(IPAddress(hosts.addressA)!, port: 5353))
            line = readCheckedLine(discover, timeout: .milliseconds(300)) {
                $0.hasPrefix("= ") || $0.contains(#""event": "resolved""#)
            }
        }
        let resolved = try #require(line, "the instance was never resolved")
        if json {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(resolved.utf8)) as? [String: Any])
            let txt = try #require(object["txt"] as? [String: Any])
            #expect(txt["k\u{1B}]0;t\u{07}"] as? String == "v\u{1B}[2J", "\(resolved)")
            // Invalid UTF-8 becomes U+FFFD in JSON; the control characters stay escaped.
            #expect(txt["bin"] as? String == "\u{FFFD}\u{FFFD}\u{7F}", "\(resolved)")
            #expect((object["instance"] as? String)?.hasPrefix(#"a\027[2J\027]0;owned\007b"#) == true, "\(resolved)")
            #expect(object["host"] as? String == "evil.local" && object["port"] as? Int == 8080)
        } else {
            #expect(resolved.hasPrefix(#"= \#(hosts.vethA) IPv4 a\027[2J\027]0;owned\007b"#), "\(resolved)")
            #expect(resolved.contains(#" txt "k\\x1b]0;t\\x07=v\\x1b[2J" txt "bin=\\xff\\x9b\\x7f""#), "\(resolved)")
        }
        discover.signal(SIGINT)
        let result = discover.waitBytes()
        #expect(result.status == 0)
        #expect(terminalHazards(result.stdout).isEmpty, "\(terminalHazards(result.stdout))")
    }

    @Test("udp discover --stats prints each session's counters on stderr, one line per protocol and family")
    func discoverStats() throws {
        let hosts = try NamespacePair()
        let discover = try hosts.udp(in: hosts.a, "discover", "--all", "--timeout", "1", "--stats")
        discover.closeStandardInput()
        let result = discover.wait(timeout: .seconds(10))
        #expect(result.status == 1 && result.stdout.isEmpty, "\(result)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        for prefix in ["udp: mdns ipv4: ", "udp: mdns ipv6: ", "udp: ssdp ipv4: ", "udp: ssdp ipv6: "] {
            #expect(lines.filter { $0.hasPrefix(prefix) }.count == 1, "\(prefix) in \(lines)")
        }
    }

    @Test("udp announce --stats prints each session's counters on stderr when it stops")
    func announceStats() throws {
        let hosts = try NamespacePair()
        let announce = try hosts.udp(
            in: hosts.a,
            "announce",
            "Web Server",
            "_http._tcp",
            "8080",
            "--host",
            "box",
            "-4",
            "--ssdp",
            "--st",
            "upnp:rootdevice",
            "--location",
            "http://\(hosts.addressA)/d.xml",
            "--stats"
        )
        var announced = 0
        while announced < 2, let line = announce.readLine(timeout: .seconds(10)) {
            if line.hasPrefix("announced on") { announced += 1 }
        }
        #expect(announced == 2)
        announce.signal(SIGINT)
        let result = announce.wait(timeout: .seconds(10))
        #expect(result.status == 0, "\(result)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        // One line per protocol and family, whatever the counts say.
        for prefix in ["udp: mdns ipv4: ", "udp: ssdp ipv4: "] {
            #expect(lines.filter { $0.hasPrefix(prefix) }.count == 1, "\(prefix) in \(lines)")
        }
    }
}

extension NamespacePair {
    /// Runs `udp` inside namespace `ns`, with its arguments as an array.
    fileprivate func udp(in ns: String, _ arguments: [String]) throws -> Spawned {
        try Spawned(["/usr/sbin/ip", "netns", "exec", ns, udpBinary] + arguments)
    }
}
