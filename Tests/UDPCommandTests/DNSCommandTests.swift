import Foundation
import NamespaceTesting
import Testing
import UDP
import UDPDNS

#if canImport(Glibc)
import Glibc
#endif

/// A DNS server scripted by the test, in namespace B: `socket` on B's first address, and two accomplices that
/// forge from another port of that address and from B's second address.
private struct FakeDNSServer: ~Copyable {
    let socket: UDPSocket
    let otherPort: UDPSocket
    let otherAddress: UDPSocket
    let address: SocketAddress

    init(_ hosts: NamespacePair, port: UInt16 = 0) throws {
        try hosts.addSecondaryAddresses()
        let first = hosts.addressesOfB[0]
        let second = hosts.addressesOfB[1]
        // Every call that can throw comes before the first field is set: a noncopyable value cannot be left
        // half made.
        let main = try insideNamespace(hosts.b) { try UDPSocket(bindingTo: SocketAddress(parsing: "\(first):\(port)")) }
        let another = try insideNamespace(hosts.b) { try UDPSocket(bindingTo: SocketAddress(parsing: "\(first):0")) }
        let other = try insideNamespace(hosts.b) { try UDPSocket(bindingTo: SocketAddress(parsing: "\(second):0")) }
        address = try main.localAddress
        socket = main
        otherPort = another
        otherAddress = other
    }

    /// The next query, within 10 seconds.
    func query() throws -> (message: DNSMessage, client: SocketAddress) {
        let datagram = try #require(try socket.receive(timeout: .seconds(10)), "no query came")
        return (try DNSMessage(decoding: datagram.payload), datagram.sender)
    }

    /// The reply a real server would send, with `address` for the A record asked.
    func reply(to query: DNSMessage, address: IPv4Address = IPv4Address(198, 18, 0, 7)) -> DNSMessage {
        var reply = DNSMessage(id: query.id, flags: 0x8580, questions: query.questions)
        reply.answers = [DNSRecord(name: query.questions[0].name, ttl: 300, data: .a(address))]
        return reply
    }
}

/// The forged answer every forgery carries: it must never be printed.
private let forgedAddress = IPv4Address(198, 18, 66, 66)

@Suite("udp dns", .enabled(if: NamespacePair.available, "ip netns needs root and iproute2"))
struct DNSCommandTests {
    @Test("forged replies raced ahead of the real one never win; the ignored counts say why, in text and JSON")
    func forgeriesLoseTheRace() throws {
        let hosts = try NamespacePair()
        let fake = try FakeDNSServer(hosts)
        let udp = try hosts.udp(in: hosts.a, "dns", "www.example.test", "@\(fake.address)", "--json", "--tries", "1")
        let (query, client) = try fake.query()
        var wrongID = fake.reply(to: query, address: forgedAddress)
        wrongID.id &+= 1
        var wrongQuestion = fake.reply(to: query, address: forgedAddress)
        wrongQuestion.questions[0].name = DNSName("www.example.test.evil")!
        var notAResponse = fake.reply(to: query, address: forgedAddress)
        notAResponse.isResponse = false
        let forged = try fake.reply(to: query, address: forgedAddress).encoded()
        for message in [wrongID, wrongQuestion, notAResponse] {
            try fake.socket.send(try message.encoded(), to: client)
        }
        try fake.socket.send(Array(forged.dropLast(3)), to: client)  // cut inside the record, no TC: malformed
        try fake.socket.send([UInt8](repeating: 0xFF, count: 40), to: client)
        try fake.otherPort.send(forged, to: client)
        try fake.otherAddress.send(forged, to: client)
        try fake.socket.send(try fake.reply(to: query).encoded(), to: client)

        let result = udp.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(answerSection(result.stdout) == ["www.example.test. 300 IN A 198.18.0.7"], "\(result.stdout)")
        #expect(!result.stdout.contains("\(forgedAddress)"))
        let summary =
            ";; ignored 7 replies: 2 wrong source, 2 malformed, 1 not a response, 1 wrong id, 1 wrong question"
        #expect(result.stdout.contains(summary + "\n"), "\(result.stdout)")
        let json = try #require(result.stdout.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["rcode"] as? String == "NOERROR" && object["ignored"] as? Int == 7)
        #expect(object["flags"] as? [String] == ["qr", "aa", "rd", "ra"])
        #expect(object["server"] as? String == "\(fake.address)")
        #expect((object["rtt_us"] as? Double ?? 0) > 0)
        let reasons = try #require(object["ignored_reasons"] as? [String: Int])
        #expect(
            reasons == ["wrong_source": 2, "malformed": 2, "not_a_response": 1, "wrong_id": 1, "wrong_question": 1]
        )
        let answers = try #require(object["answers"] as? [[String: Any]])
        #expect(answers.count == 1 && answers[0]["data"] as? String == "198.18.0.7")
        #expect(answers[0]["name"] as? String == "www.example.test." && answers[0]["ttl"] as? Int == 300)
        #expect(answers[0]["type"] as? String == "A")
    }

    @Test("when only forgeries come, every try goes unanswered, and the one error line says what was ignored")
    func onlyForgeries() throws {
        let hosts = try NamespacePair()
        let fake = try FakeDNSServer(hosts)
        let udp = try hosts.udp(
            in: hosts.a,
            "dns",
            "www.example.test",
            "@\(fake.address)",
            "--tries",
            "2",
            "--timeout",
            "0.3"
        )
        var ports: Set<UInt16> = []
        for _ in 0..<2 {
            let (query, client) = try fake.query()
            ports.insert(client.port)
            var wrongID = fake.reply(to: query, address: forgedAddress)
            wrongID.id &+= 1
            try fake.socket.send(try wrongID.encoded(), to: client)
            try fake.otherAddress.send(try fake.reply(to: query, address: forgedAddress).encoded(), to: client)
        }
        let result = udp.wait()
        #expect(result.status == 1)
        #expect(ports.count == 2, "each try from its own port")
        expectOneLineError(
            result,
            containing: "no reply from \(fake.address) (2 tries; ignored 4 replies: 2 wrong source, 2 wrong id)"
        )
    }

    @Test("malformed replies are dropped and counted, never a crash, and the real reply after them is shown")
    func malformedReplies() throws {
        let hosts = try NamespacePair()
        let fake = try FakeDNSServer(hosts)
        let udp = try hosts.udp(in: hosts.a, "dns", "www.example.test", "@\(fake.address)", "--tries", "1")
        let (query, client) = try fake.query()
        let good = try fake.reply(to: query).encoded()
        let header = Array(good.prefix(12))
        /// `header` with the counts replaced.
        func withCounts(_ counts: [UInt8], _ body: [UInt8]) -> [UInt8] { Array(header.prefix(4)) + counts + body }
        let question = Array(good[12..<(good.count - 16)])  // the question: the name, type and class
        let hostile: [[UInt8]] = [
            [],  // an empty datagram
            Array(good.prefix(11)),  // a header cut short
            withCounts([0xFF, 0xFF, 0, 0, 0, 0, 0, 0], question),  // 65535 questions claimed
            withCounts([0, 1, 0, 0, 0, 0, 0, 0], [0xC0, 12, 0, 1, 0, 1]),  // a pointer to itself
            withCounts([0, 1, 0, 0, 0, 0, 0, 0], [0x3F, 0x61]),  // a label past the end
            withCounts([0, 1, 0, 1, 0, 0, 0, 0], question),  // an answer claimed, none there
            withCounts([0, 1, 0, 1, 0, 0, 0, 0], question + [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5]),
            withCounts(
                [0, 1, 0, 0, 0, 0, 0, 2],
                question + Array(repeating: [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0], count: 2).flatMap { $0 }
            ),
        ]
        for bytes in hostile { try fake.socket.send(bytes, to: client) }
        try fake.socket.send(good, to: client)
        let result = udp.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(answerSection(result.stdout) == ["www.example.test. 300 IN A 198.18.0.7"])
        #expect(result.stdout.contains(";; ignored 8 replies: malformed\n"), "\(result.stdout)")
    }

    @Test("a truncated reply is shown with its flag and a pointer to dig +tcp, even cut inside a record")
    func truncated() throws {
        let hosts = try NamespacePair()
        let fake = try FakeDNSServer(hosts)
        let udp = try hosts.udp(in: hosts.a, "dns", "www.example.test", "@\(fake.address)", "--json")
        let (query, client) = try fake.query()
        var reply = fake.reply(to: query)
        reply.isTruncated = true
        try fake.socket.send(Array(try reply.encoded().dropLast(2)), to: client)
        let result = udp.wait()
        #expect(result.status == 0, "\(result.stderr)")
        let tcp = "dig +tcp @\(hosts.addressB) -p \(fake.address.port) www.example.test. A"
        #expect(result.stdout.contains(tcp), "\(result.stdout)")
        #expect(result.stdout.contains(";; flags: qr aa tc rd ra;"))
        #expect(result.stdout.contains(#""truncated": true"#))
    }

    @Test("nothing listening: each try ends at the ICMP port unreachable, and the query gives up at once")
    func refused() throws {
        let hosts = try NamespacePair()
        let start = ContinuousClock.now
        let result = try hosts.udp(in: hosts.a, "dns", "www.example.test", "@\(hosts.addressB):5300").wait()
        expectOneLineError(
            result,
            containing: "no reply from \(hosts.addressB):5300 (3 tries; port unreachable from \(hosts.addressB))"
        )
        #expect(result.status == 1)
        #expect(ContinuousClock.now - start < .seconds(2), "the 2, 4 and 8-second waits were cut short")
    }

    @Test("@system asks /etc/resolv.conf's first nameserver, read in a private mount namespace")
    func systemServer() throws {
        let hosts = try NamespacePair()
        let fake = try FakeDNSServer(hosts, port: 53)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("udp-resolv-\(hosts.a)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "# test\nnameserver \(hosts.addressB)\nnameserver 198.18.0.99\n".write(
            toFile: file,
            atomically: true,
            encoding: .utf8
        )
        // The bind mount lives and dies with the private mount namespace of this one command.
        let udp = try Spawned([
            "/usr/sbin/ip", "netns", "exec", hosts.a, "/usr/bin/unshare", "--mount", "--propagation", "private",
            "/bin/sh", "-c", #"mount --bind "$1" /etc/resolv.conf && exec "$2" dns www.example.test @system"#, "sh",
            file, udpBinary,
        ])
        let (query, client) = try fake.query()
        try fake.socket.send(try fake.reply(to: query).encoded(), to: client)
        let result = udp.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(";; SERVER: \(hosts.addressB)#53(\(hosts.addressB)) (UDP)"))
    }
}

@Suite("udp dns usage")
struct DNSUsageTests {
    @Test(
        "bad input is one line and exit 64, before any query",
        arguments: [
            (["a.test"], "name the server to ask: @ADDRESS[:PORT]"),
            (["a.test", "@198.18.0.1", "@198.18.0.2"], "ask one server at a time"),
            (["a.test", "@ns1.example.test"], "SERVER must be an IP address"),
            (["a.test", "@198.18.0.1:99999"], "port 99999 is out of range"),
            (["a.test", "BOGUS", "@198.18.0.1"], "'BOGUS' is not a record type"),
            (["a.test", "TYPE70000", "@198.18.0.1"], "'TYPE70000' is not a record type"),
            (["a..test", "@198.18.0.1"], "'a..test' is not a domain name"),
            (["a.test", "A", "more", "@198.18.0.1"], "'more' is one word too many"),
            (["-x", "nope", "@198.18.0.1"], "-x 'nope' is not an IPv4 or IPv6 address"),
            (["a.test", "@198.18.0.1:5353", "-p", "53"], "give the port once"),
            (["a.test", "@198.18.0.1", "--tries", "0"], "--tries 0 is out of range 1-10"),
            (["a.test", "@198.18.0.1", "--timeout", "0"], "--timeout"),
            (["a.test", "@198.18.0.1", "--count", "-1"], "--count"),
            (["a.test", "@198.18.0.1", "--interval", "0"], "--interval"),
            (["@198.18.0.1"], "name the NAME to look up"),
        ] as [([String], String)]
    )
    func rejected(arguments: [String], message: String) throws {
        let result = try runUDPArray(["dns"] + arguments)
        expectOneLineError(result, containing: message)
        #expect(result.status == 64, "\(arguments)")
    }

    @Test func helpTeachesWithExamples() throws {
        let result = try runUDP("dns", "--help")
        #expect(result.status == 0)
        for example in [
            "udp dns example.test MX @198.18.0.53:5353", "udp dns -x 198.18.0.7 @198.18.0.53", "@system",
            "udp dns --count 10 --interval 0.5 example.test @198.18.0.53", "dig +tcp",
        ] {
            #expect(result.stdout.contains(example), "\(example)")
        }
        #expect(try runUDP("--help").stdout.contains("dns"))
    }
}
